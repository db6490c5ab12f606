import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

/**
 * The console's side of the desktop sign-in, in a real Chromium against the real server: the
 * Electron preload's `window.inferboxDesktop` is stood in for by an init script (Electron itself
 * cannot run here). The main-process decision of who gets the key is tested in test/electron/.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('console sign-in through the desktop bridge (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer();
    // The first-run wizard has its own test (firstRun.e2e.test.ts); these start after it.
    await server.request('POST', '/api/setup/complete');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  });
  after(async () => {
    await browser?.close();
    await server?.cleanup();
  });

  const pageWithBridge = async (key: string | null) => {
    const page = await browser.newPage();
    // As source text: tsx would wrap a function argument in helpers that do not exist in the page.
    await page.addInitScript({ content: `window.inferboxDesktop = { getAdminKey: async () => ${JSON.stringify(key)} };` });
    return page;
  };

  test('the bridge\'s key signs in without the form; after "Sign out" the form stays', async () => {
    const page = await pageWithBridge(server.adminKey);
    await page.goto(`${server.baseUrl}/#/models`);
    await page.getByRole('heading', { level: 1, name: 'Models' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin key').waitFor();
    await page.waitForTimeout(300);
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0, 'not signed straight back in');
    await page.close();
  });

  test('no key from the bridge (another origin, no key file) or a key that no longer works: the form', async () => {
    for (const key of [null, 'ibx_revokedkey0_' + 'x'.repeat(43)]) {
      const page = await pageWithBridge(key);
      await page.goto(`${server.baseUrl}/`);
      await page.getByLabel('Admin key').waitFor();
      assert.equal(await page.getByRole('alert').count(), 0, 'no error shown for a failed automatic attempt');
      await page.close();
    }
  });
});
