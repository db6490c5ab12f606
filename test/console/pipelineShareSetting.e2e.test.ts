import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer } from '../helpers/testServer.js';

/** Settings page in a real Chromium: the admin edits pipeline_max_treatment_share (issue 17, item 4); a bad value is refused. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const LABEL = "Most traffic a pipeline's upload may take (0 to 1)";

let browser: Browser;
before(async () => { browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] }); });
after(async () => browser?.close());

test("Settings: the admin sets the pipeline's treatment share cap; 1.5 is refused, 0.25 is saved and audited", async () => {
  const server = await startTestServer();
  const problems: string[] = [];
  try {
    await server.request('POST', '/api/setup/complete'); // past the first-run wizard (tested in firstRun.e2e)
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    // The refused save is one expected 400.
    page.on('console', (message) => { if (message.type() === 'error' && !/status of 400/.test(message.text())) problems.push(`console: ${message.text()}`); });
    await page.goto(`${server.baseUrl}/`);
    await page.getByLabel('Admin key').fill(server.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.goto(`${server.baseUrl}/#/settings`);
    const field = page.getByLabel(LABEL);
    await field.waitFor();
    assert.equal(await field.inputValue(), '0.1');

    await field.fill('1.5');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/pipeline_max_treatment_share/).first().waitFor();
    await field.fill('0.25');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

    const settings = (await (await server.request('GET', '/api/settings')).json()) as { effective: Record<string, unknown> };
    assert.equal(settings.effective.pipeline_max_treatment_share, 0.25);
    const audit = (await (await server.request('GET', '/api/audit?action=settings.update')).json()) as { entries: { details: { changes?: Record<string, unknown> } }[] };
    assert.ok(audit.entries.some((e) => e.details.changes?.pipeline_max_treatment_share === 0.25));
    assert.deepEqual(problems, []);
  } finally {
    await server.cleanup();
  }
});
