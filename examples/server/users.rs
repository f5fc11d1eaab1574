//! `server createuser`: a user in the SQLite database, with an argon2 hash.

use std::io::{BufRead, IsTerminal};

use tower_simplejwt::credentials::{PasswordHasher, SqliteUserStore, UserStore};
use tower_simplejwt::store::sqlite::open_pool;

use crate::Error;

/// Creates `name` in `database` (the password read from standard input
/// when not given) and says so on standard output.
pub async fn create(
    database: &str,
    name: &str,
    password: Option<String>,
    active: bool,
) -> Result<(), Error> {
    let password = match password {
        Some(password) => password,
        None => read_password()?,
    };
    let pool = open_pool(database)
        .await
        .map_err(|error| format!("--database {database}: {error}"))?;
    let users = SqliteUserStore::from_pool(pool).await?;
    let hash = PasswordHasher::default().hash(&password)?;
    let id = users.create(name, &hash, active).await?.id;
    println!(
        "created user {name:?} with id {id}{}",
        if active { "" } else { " (inactive)" }
    );
    Ok(())
}

fn read_password() -> Result<String, Error> {
    if std::io::stdin().is_terminal() {
        eprint!("Password: ");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err("the password may not be empty".into());
    }
    Ok(password)
}
