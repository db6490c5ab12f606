import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer } from '../helpers/testServer.js';

/** The Backups panel (Settings) in a real Chromium against a real server: back up now, see it listed, download the same bytes. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let browser: Browser;
before(async () => { browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] }); });
after(async () => browser?.close());

test('Backups panel: back up now, the list shows it, Download saves the archive byte for byte', async () => {
  const server = await startTestServer();
  const problems: string[] = [];
  try {
    await server.request('POST', '/api/setup/complete'); // past the first-run wizard (tested in firstRun.e2e)
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
    await page.goto(`${server.baseUrl}/`);
    await page.getByLabel('Admin key').fill(server.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.goto(`${server.baseUrl}/#/settings`);
    await page.getByRole('heading', { name: 'Backups' }).waitFor();
    await page.getByText('No backups yet.').waitFor();

    await page.getByRole('button', { name: 'Back up now' }).click();
    const status = page.getByRole('status').filter({ hasText: 'Backed up:' });
    await status.waitFor();
    const name = /(inferbox-backup-\S+\.tar\.gz)/.exec(await status.innerText())![1]!;
    await page.getByRole('cell', { name: 'made by hand' }).waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download ${name}` }).click()]);
    assert.equal(download.suggestedFilename(), name);
    const saved = await readFile((await download.path())!);
    assert.deepEqual(saved, await readFile(join(server.dataDir, 'backups', name)));
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await server.cleanup();
  }
});
