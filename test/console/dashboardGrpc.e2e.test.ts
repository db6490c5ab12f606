import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { release, restPortBesideATakenOne } from '../helpers/occupiedPorts.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

/**
 * The dashboard's gRPC status in a real Chromium: a server whose `auto` gRPC port (REST + 1) was
 * taken at start says so, with the reason, and shows the target once a retry bound the port.
 * Screenshots go to test-artifacts/console/.
 */
const ARTIFACTS = join(import.meta.dirname, '../..', 'test-artifacts', 'console');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

test('dashboard: gRPC unavailable with the reason while its port is taken, then its target once a retry binds it', async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  const { restPort, blocker } = await restPortBesideATakenOne();
  let blocked = true;
  let server: TestServer | undefined;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  const problems: string[] = [];
  try {
    server = await startTestServer({ overrides: { host: '127.0.0.1', port: restPort }, grpcRetryMs: 200 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
    await page.goto(`${server.baseUrl}/`);
    await page.getByLabel('Admin key').fill(server.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // A fresh data dir: the first-run wizard comes first (its own test is firstRun.e2e.test.ts).
    await page.getByRole('button', { name: 'Skip setup' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const alert = page.getByRole('alert').filter({ hasText: 'gRPC is unavailable' });
    await alert.waitFor();
    assert.match(await alert.innerText(), new RegExp(`127\\.0\\.0\\.1:${restPort + 1} .*EADDRINUSE.*tried again every 0\\.2 s; REST serves meanwhile`));
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-grpc-unavailable.png'), fullPage: true });

    await release(blocker);
    blocked = false;
    for (let start = Date.now(); server.running.grpcPort === null && Date.now() - start < 15_000;) await new Promise((resolve) => setTimeout(resolve, 100));
    // Away and back (the dashboard loads again) rather than wait for its 10 s refresh.
    await page.goto(`${server.baseUrl}/#/settings`);
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    await page.goto(`${server.baseUrl}/#/dashboard`);
    await page.getByText(`127.0.0.1:${restPort + 1}`, { exact: true }).waitFor();
    assert.equal(await page.getByText('gRPC is unavailable').count(), 0);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    if (blocked) await release(blocker);
    await server?.cleanup();
  }
});
