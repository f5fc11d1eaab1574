// The guide's frontend flow in a real browser (Debian's chromium, driven by
// playwright-core) against the example server: log in, call /api/me/, let
// the access token expire, fire five parallel calls — exactly one refresh
// reaches the server and all five succeed — then let the refresh token
// expire and land back on the login form. Time moves through the server's
// --clock-file, never by sleeping. The refresh count is read from the
// server's own request log.
//
// Usage: node --test tests/e2e/  (SERVER_BINARY=path/to/examples/server)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..', '..');
const binary = process.env.SERVER_BINARY ?? join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug', 'examples', 'server');
const artifacts = process.env.E2E_ARTIFACTS ?? join(root, 'target', 'e2e-artifacts');
const ACCESS_LIFETIME = 2;
const REFRESH_LIFETIME = 60;

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

async function waitForPort(port, child, log) {
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) throw new Error(`the server exited: ${log()}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await new Promise((done) => setTimeout(done, 100));
    }
  }
  throw new Error(`the server did not listen on ${port}: ${log()}`);
}

for (const mode of ['header', 'cookie']) {
test(`${mode} mode: log in, expire, five parallel calls with one refresh, expire the refresh token`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tower-simplejwt-e2e-'));
  const created = spawnSync(binary, ['createuser', 'alice', '--password', 'wonderland-42'], { cwd: dir, encoding: 'utf8' });
  assert.equal(created.status, 0, `createuser failed (is ${binary} built?): ${created.stderr}`);

  let now = Math.floor(Date.now() / 1000);
  const clockFile = join(dir, 'clock');
  const setClock = (seconds) => {
    writeFileSync(`${clockFile}.next`, String(seconds));
    renameSync(`${clockFile}.next`, clockFile);
  };
  setClock(now);

  const port = await freePort();
  let log = '';
  const server = spawn(binary, [
    '--listen', `127.0.0.1:${port}`,
    '--access-lifetime', String(ACCESS_LIFETIME),
    '--refresh-lifetime', String(REFRESH_LIFETIME),
    '--clock-file', clockFile,
    ...(mode === 'cookie' ? ['--cookies'] : []),
  ], { cwd: dir, env: { ...process.env, TOWER_JWT_SECRET: 'e2e-secret-of-at-least-32-bytes-long', RUST_LOG: 'info', NO_COLOR: '1' } });
  server.stdout.on('data', (chunk) => { log += chunk; });
  server.stderr.on('data', (chunk) => { log += chunk; });
  const refreshes = () => log.split('\n').filter((line) => line.includes('request') && line.includes('/api/token/refresh/')).length;

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    await waitForPort(port, server, () => log);
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/?mode=${mode}`);
    await page.waitForSelector('#login:not([hidden])');

    await page.fill('#username', 'alice');
    await page.fill('#password', 'wonderland-42');
    const loginAnswer = page.waitForResponse((response) => response.url().endsWith('/api/token/'));
    await page.click('button[type=submit]');
    const loginBody = await (await loginAnswer).json();
    await page.waitForSelector('text=Logged in as alice');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, `logged-in-${mode}-mode.png`), fullPage: true });
    if (mode === 'cookie') {
      const cookies = await page.context().cookies();
      assert.deepEqual(cookies.map((cookie) => [cookie.name, cookie.httpOnly, cookie.sameSite]).sort(),
        [['__Host-access_token', true, 'Strict'], ['__Secure-refresh_token', true, 'Strict']]);
      assert.equal(await page.evaluate(() => document.cookie), '', 'the tokens are out of reach of scripts');
      assert.deepEqual(loginBody, {}, 'nor does the login answer hand them to scripts');
    } else {
      assert.deepEqual(Object.keys(loginBody).sort(), ['access', 'refresh']);
    }
    assert.equal(refreshes(), 0);

    // The access token expires; five calls at once share one refresh.
    now += ACCESS_LIFETIME + 1;
    setClock(now);
    const answers = await page.evaluate(() => Promise.all([1, 2, 3, 4, 5].map(() => window.demo.whoami())));
    assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 200, 200, 200]);
    assert.deepEqual(answers.map((answer) => answer.body.username), ['alice', 'alice', 'alice', 'alice', 'alice']);
    await page.waitForTimeout(100);
    assert.equal(refreshes(), 1, `exactly one refresh reached the server:\n${log}`);

    // The refresh token expires too: the page goes back to the login form.
    now += REFRESH_LIFETIME + 1;
    setClock(now);
    await page.click('#whoami');
    await page.waitForSelector('#login:not([hidden])');
    assert.equal(await page.isVisible('#session'), false);
    assert.equal(refreshes(), 2, 'the failed refresh was tried once, not in a loop');
  } finally {
    await browser.close();
    server.kill();
  }
});
}
