// The API docs page (/api/docs/, Swagger UI from assets compiled into the
// crate) in a real browser (Debian's chromium, driven by playwright-core)
// against the example server: it renders every operation of /api/schema/,
// and every request the page makes goes to the server itself.
//
// Usage: node --test tests/e2e/  (SERVER_BINARY=path/to/examples/server)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..', '..');
const binary = process.env.SERVER_BINARY ?? join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug', 'examples', 'server');
const artifacts = process.env.E2E_ARTIFACTS ?? join(root, 'target', 'e2e-artifacts');

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

test('the docs page renders the document, and no request leaves the server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tower-simplejwt-docs-'));
  const created = spawnSync(binary, ['createuser', 'alice', '--password', 'wonderland-42'], { cwd: dir, encoding: 'utf8' });
  assert.equal(created.status, 0, `createuser failed (is ${binary} built?): ${created.stderr}`);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  let log = '';
  const server = spawn(binary, ['--listen', `127.0.0.1:${port}`], { cwd: dir });
  server.stderr.on('data', (chunk) => { log += chunk; });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    for (let i = 0; ; i += 1) {
      if (server.exitCode !== null) throw new Error(`the server exited: ${log}`);
      try { await fetch(`${origin}/api/schema/`); break; } catch {
        if (i > 300) throw new Error(`the server did not listen: ${log}`);
        await new Promise((done) => setTimeout(done, 100));
      }
    }
    const schema = await (await fetch(`${origin}/api/schema/`)).json();
    const operations = Object.values(schema.paths).flatMap((item) => Object.keys(item)).length;

    const page = await browser.newPage();
    const requests = [];
    const errors = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    await page.goto(`${origin}/api/docs/`);
    await page.waitForFunction((count) => document.querySelectorAll('.opblock').length === count, operations,
      { timeout: 20000 });
    await page.locator('.opblock-summary').first().click();
    await page.waitForSelector('.opblock-body', { timeout: 5000 });
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'docs-page.png'), fullPage: true });

    const elsewhere = requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'));
    assert.deepEqual(elsewhere, [], 'the page reached beyond the server');
    assert.ok(requests.includes(`${origin}/api/schema/`), `the page never loaded the schema: ${requests}`);
    assert.deepEqual(errors, [], 'the page logged errors');
    const title = await page.locator('.info .title').textContent();
    assert.match(title, /simplejwt/);
  } finally {
    await browser.close();
    server.kill();
  }
});
