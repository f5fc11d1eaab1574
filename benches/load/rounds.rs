//! wrk against each target in turn, rounds of it, and the report.

use std::process::Command;

/// A URL to load, with the token to send and the process that serves it.
pub struct Target {
    pub name: String,
    pub url: String,
    pub token: String,
    /// The serving process, whose CPU time is read from /proc.
    pub pid: u32,
    /// The index of the target this one is compared with.
    pub baseline: usize,
}

/// How long and how hard to load each target.
pub struct Plan {
    pub seconds: u64,
    pub connections: u64,
    pub rounds: u64,
}

/// Pins every thread of process `pid` (and the threads it starts later) to
/// CPU 0, so that wrk can have CPU 1; false when `taskset` (util-linux) is
/// missing or refused.
pub fn pin_to_first_cpu(pid: u32) -> bool {
    Command::new("taskset")
        .args(["-apc", "0", &pid.to_string()])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// One wrk run: requests per second, and the server's CPU time per request
/// while it ran, in user space and in the kernel.
struct Measurement {
    rate: f64,
    user_per_request: f64,
    system_per_request: f64,
}

/// CPU time process `pid` has used in user space and in the kernel, in
/// seconds (Linux: /proc/PID/stat).
fn process_cpu_seconds(pid: u32) -> (f64, f64) {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    // Fields after the command name (which ends with the last ')'):
    // utime and stime are the 12th and 13th, in clock ticks of 1/100 s.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks = |index: usize| fields[index].parse::<u64>().unwrap() as f64 / 100.0;
    (ticks(11), ticks(12))
}

fn wrk(target: &Target, plan: &Plan, pinned: bool) -> Measurement {
    let mut command = match pinned {
        true => {
            let mut command = Command::new("taskset");
            command.args(["-c", "1", "wrk"]);
            command
        }
        false => Command::new("wrk"),
    };
    let cpu_before = process_cpu_seconds(target.pid);
    let output = command
        .args(["-t1", &format!("-c{}", plan.connections)])
        .arg(format!("-d{}s", plan.seconds))
        .args(["-H", &format!("Authorization: Bearer {}", target.token)])
        .arg(&target.url)
        .output()
        .expect("wrk must be installed (apt-get install wrk)");
    let cpu_after = process_cpu_seconds(target.pid);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && !text.contains("Non-2xx"),
        "every answer of {} must be 200:\n{text}{}",
        target.url,
        String::from_utf8_lossy(&output.stderr)
    );
    let rate: f64 = text
        .lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output:\n{text}"));
    let requests: f64 = text
        .lines()
        .find_map(|line| line.trim().split_once(" requests in "))
        .and_then(|(count, _)| count.parse().ok())
        .unwrap_or_else(|| panic!("no request count in wrk's output:\n{text}"));
    Measurement {
        rate,
        user_per_request: (cpu_after.0 - cpu_before.0) / requests,
        system_per_request: (cpu_after.1 - cpu_before.1) / requests,
    }
}

/// Loads every target once per round, each round starting with the next
/// target so that none always follows the same one, and prints each run,
/// then the summary: mean rate, ratio of the means to the target's
/// baseline, median of the rounds' ratios, CPU per request, and the
/// baseline's CPU per request over the target's (the rate the server could
/// reach if its CPU were the only limit, as a ratio).
pub fn run(targets: &[Target], plan: &Plan, pinned: bool) {
    let width = targets
        .iter()
        .map(|target| target.name.len())
        .max()
        .unwrap_or(0);
    let mut rates = vec![Vec::new(); targets.len()];
    let mut user = vec![Vec::new(); targets.len()];
    let mut system = vec![Vec::new(); targets.len()];
    for round in 1..=plan.rounds {
        for step in 0..targets.len() {
            let index = (step + round as usize - 1) % targets.len();
            let measured = wrk(&targets[index], plan, pinned);
            println!(
                "round {round}: {:<width$} {:>10.0} requests/s  server CPU per request: {:>5.2} µs user, {:>5.2} µs kernel",
                targets[index].name,
                measured.rate,
                measured.user_per_request * 1e6,
                measured.system_per_request * 1e6,
            );
            rates[index].push(measured.rate);
            user[index].push(measured.user_per_request * 1e6);
            system[index].push(measured.system_per_request * 1e6);
        }
    }
    let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
    println!(
        "\n{} rounds of {} s, {} connections:",
        plan.rounds, plan.seconds, plan.connections
    );
    println!(
        "{:<width$} {:>9}  {:>8}  {:>8}  {:>21}  {:>7}  versus",
        "", "mean rps", "ratio", "median", "server CPU / request", "by CPU"
    );
    let cpu = |index: usize| mean(&user[index]) + mean(&system[index]);
    for (index, target) in targets.iter().enumerate() {
        let baseline = target.baseline;
        let mut ratios: Vec<f64> = rates[index]
            .iter()
            .zip(&rates[baseline])
            .map(|(rate, base)| rate / base)
            .collect();
        ratios.sort_by(f64::total_cmp);
        let median = (ratios[(ratios.len() - 1) / 2] + ratios[ratios.len() / 2]) / 2.0;
        println!(
            "{:<width$} {:>9.0}  {:>7.3}×  {:>7.3}×  {:>5.2} user {:>5.2} kernel  {:>6.3}×  {} (rounds {:.3}–{:.3})",
            target.name,
            mean(&rates[index]),
            mean(&rates[index]) / mean(&rates[baseline]),
            median,
            mean(&user[index]),
            mean(&system[index]),
            cpu(baseline) / cpu(index),
            targets[baseline].name,
            ratios[0],
            ratios[ratios.len() - 1],
        );
    }
    println!(
        "\nratio: of the mean rates; median: of the rounds' ratios; CPU in µs of the \
         serving process per request (user space, kernel), from /proc/PID/stat; by CPU: \
         the baseline's CPU per request over this one's"
    );
}
