import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { requestFrom } from '../helpers/requestFrom.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

/**
 * The console's part of the abuse limits in a real Chromium against a real server: per-key rate
 * limits on the Keys page, the Blocked addresses panel with unblock, and sign-in going through the
 * same failed-authentication throttle as the API. Chromium connects from 127.0.0.1; the test's
 * own checks come from other loopback addresses, so blocking the browser does not block them.
 */
const ARTIFACTS = join(import.meta.dirname, '../..', 'test-artifacts', 'console');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BAD_KEY = 'ibx_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

describe('console: abuse limits (Chromium, end to end)', () => {
  let server: TestServer;
  let browser: Browser;
  const pageProblems: string[] = [];
  const api = (address: string, path: string, key: string | null = server.adminKey, method = 'GET') =>
    requestFrom(address, `${server.baseUrl}${path}`, { method, headers: key ? { authorization: `Bearer ${key}` } : {} });

  const newPage = async (): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('dialog', (dialog) => void dialog.accept());
    page.on('pageerror', (error) => pageProblems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      // Refused sign-ins (401, 429) are expected here; anything else is a problem.
      if (message.type() === 'error' && !/status of (401|429)/.test(message.text())) pageProblems.push(`console: ${message.text()}`);
    });
    return page;
  };
  const signIn = async (page: Page, key: string) => {
    await page.getByLabel('Admin key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    // The first-run wizard has its own test (firstRun.e2e.test.ts); this starts after it.
    await server.request('POST', '/api/setup/complete');
    const saved = await server.request('PUT', '/api/settings', { json: { auth_failures_before_backoff: 3, auth_block_after_failures: 6, auth_block_seconds: 600 } });
    assert.equal(saved.status, 200, await saved.text());
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  });
  after(async () => {
    await browser?.close();
    await server?.cleanup();
  });

  test('Keys page: a key created with a rate limit is limited; the limit can be changed; a blocked address is listed and unblocked', async () => {
    const page = await newPage();
    await page.goto(`${server.baseUrl}/#/keys`);
    await signIn(page, server.adminKey);
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    await page.getByTestId('no-blocked-addresses').waitFor();

    await page.getByLabel('Name').fill('metered app');
    await page.getByLabel('Scopes').fill('infer');
    await page.getByLabel('Requests/s').fill('1');
    await page.getByLabel('Burst').fill('2');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = await page.getByTestId('new-key').innerText();
    await page.getByRole('row', { name: /metered app.*1\/s, burst 2/ }).waitFor();
    const metadata = () => api('127.0.0.2', '/v2/models/mlp', key).then((r) => r.status);
    assert.deepEqual([await metadata(), await metadata(), await metadata()], [200, 200, 429], 'the limit set in the form applies');

    await page.getByRole('button', { name: 'Change the rate limit of metered app' }).click();
    const editor = page.getByRole('form', { name: 'Rate limit of metered app' });
    await editor.getByLabel('Requests/s').fill('0');
    await editor.getByLabel('Burst').fill('');
    await editor.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('row', { name: /metered app.*unlimited/ }).waitFor();
    for (let i = 0; i < 5; i++) assert.equal(await metadata(), 200, 'unlimited now');

    // Someone on another address guesses keys until it is blocked.
    const attacker = '127.0.0.7';
    for (let i = 0; i < 10; i++) await api(attacker, '/api/system', BAD_KEY);
    assert.equal((await api(attacker, '/api/system', BAD_KEY)).status, 429, 'blocked');
    assert.equal((await api(attacker, '/api/system')).status, 200, 'a valid key from it is still served');
    await page.getByRole('row', { name: /127\.0\.0\.7.*blocked/ }).waitFor({ timeout: 10_000 }); // the panel refreshes every 5 s
    await page.screenshot({ path: join(ARTIFACTS, 'keys-blocked-addresses.png'), fullPage: true });
    await page.getByRole('button', { name: 'Unblock 127.0.0.7' }).click();
    await page.getByTestId('no-blocked-addresses').waitFor();
    assert.equal((await api(attacker, '/api/system', BAD_KEY)).status, 401, 'unblocked from the console: a wrong key is refused as such again');
    await page.close();
  });

  test('sign-in goes through the same throttle: repeated wrong keys make the browser wait, but the admin key still signs in', async () => {
    const page = await newPage();
    await page.goto(`${server.baseUrl}/`);
    for (let i = 0; i < 3; i++) {
      await signIn(page, `${BAD_KEY}${i}`);
      await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
      await page.getByRole('button', { name: 'Sign in' }).waitFor({ state: 'visible' });
    }
    await signIn(page, BAD_KEY);
    await page.getByRole('alert').filter({ hasText: /Too many failed attempts from this computer\. .*retry after \d+ s/ }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'sign-in-throttled.png'), fullPage: true });
    const listed = JSON.parse((await api('127.0.0.2', '/api/security/blocked-addresses')).body) as { addresses: { address: string; state: string }[] };
    assert.ok(listed.addresses.some((a) => a.address === '127.0.0.1'), 'the browser address is listed');
    // The admin is not locked out by someone else's failures on the same address (issue 17).
    await signIn(page, server.adminKey);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    assert.equal((await api('127.0.0.2', '/api/security/blocked-addresses/127.0.0.1', server.adminKey, 'DELETE')).status, 200);
    assert.deepEqual(pageProblems, []);
    await page.close();
  });
});
