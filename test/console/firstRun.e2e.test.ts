import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { GENTOO_FEATURES, makeDataDir, startTestServer, type TestServer } from '../helpers/testServer.js';
import { assertWebGpuLine } from '../helpers/webGpuLine.js';

/**
 * The first-run wizard in a real Chromium against the real server: on a headless server (the
 * choice is saved for the next start), through the desktop bridge (stood in for by an init script:
 * the desktop app restarts the server itself), and skipped.
 */
const ROOT = join(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'first-run');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

interface AuditEntry { action: string; details: Record<string, unknown> | null }

describe('first-run wizard (Chromium, end to end)', () => {
  let browser: Browser;
  const problems: string[] = [];
  const watch = (page: Page) => {
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
  };
  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  });
  after(async () => {
    await browser?.close();
    assert.deepEqual(problems, [], 'no script errors, CSP violations or failed requests in any page');
  });

  const signIn = async (page: Page, server: TestServer) => {
    await page.goto(`${server.baseUrl}/`);
    await page.getByLabel('Admin key').fill(server.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  const audit = async (server: TestServer) => ((await (await server.request('GET', '/api/audit?limit=1000')).json()) as { entries: AuditEntry[] }).entries;

  test('headless server: hardware and data location shown, LAN chosen (saved for the next start), a model-scoped app key made and working, then never again', async () => {
    // A saved host, not a flag, as a headless install that the admin manages from the console.
    const dataDir = await makeDataDir();
    const seed = await startTestServer({ dataDir });
    await seed.request('PUT', '/api/settings', { json: { host: '127.0.0.1' } });
    await seed.stop();
    const server = await startTestServer({ dataDir, overrides: { host: undefined }, webgpuProbe: {} });
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    watch(page);
    try {
      await signIn(page, server);
      await page.getByRole('heading', { level: 1, name: 'Set up Inferbox' }).waitFor();
      assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0, 'the wizard comes first');
      await page.getByTestId('wizard-data-dir').filter({ hasText: dataDir }).waitFor();
      assert.match(await page.getByTestId('wizard-provider').innerText(), /^CPU, 2 workers × 1 threads$/);
      await assertWebGpuLine(page.getByTestId('wizard-webgpu'), server, '');
      await page.getByText('mlp').first().waitFor();
      await page.screenshot({ path: join(ARTIFACTS, '1-this-computer.png'), fullPage: true });

      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('radio', { name: /This computer only/ }).waitFor();
      assert.equal(await page.getByRole('radio', { name: /This computer only/ }).isChecked(), true, 'the running bind is preselected');
      assert.match(await page.getByTestId('serve-scope-now').innerText(), /^Now: this computer only \(127\.0\.0\.1:\d+\)\.$/);
      await page.getByRole('radio', { name: /The office network/ }).check();
      await page.screenshot({ path: join(ARTIFACTS, '2-network.png'), fullPage: true });

      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByLabel('App name').fill('invoicing');
      await page.getByLabel('May call').selectOption('mlp');
      await page.getByRole('button', { name: 'Create key' }).click();
      const key = (await page.getByTestId('wizard-key').innerText()).trim();
      assert.match(key, /^ibx_\w+_[\w-]+$/);
      await page.getByText('curl --cacert inferbox.crt', { exact: false }).or(page.getByText('curl -H', { exact: false })).first().waitFor();
      await page.screenshot({ path: join(ARTIFACTS, '3-key.png'), fullPage: true });
      // The key works for its model and only there.
      const infer = await server.request('POST', '/v2/models/mlp/infer', { key, json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] } });
      assert.equal(infer.status, 200);
      assert.equal((await server.request('GET', '/api/models', { key })).status, 403, 'an app key, not an admin key');
      const keys = ((await (await server.request('GET', '/api/keys')).json()) as { keys: { name: string; scopes: string[] }[] }).keys;
      assert.deepEqual(keys.find((k) => k.name === 'invoicing')?.scopes, ['infer:mlp']);

      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByText('Serving: the office network (HTTPS).').waitFor();
      await page.getByText('Key invoicing created (infer:mlp).').waitFor();
      await page.getByRole('button', { name: 'Finish' }).click();
      await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
      await page.getByRole('status').filter({ hasText: 'Saved. Restart the appliance to serve the office network.' }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, '4-done.png'), fullPage: true });

      const settings = (await (await server.request('GET', '/api/settings')).json()) as { saved: { host?: string }; effective: { host: string } };
      assert.equal(settings.saved.host, '0.0.0.0', 'saved for the next start');
      assert.equal(settings.effective.host, '127.0.0.1', 'the running server keeps its address until then');
      assert.notEqual(((await (await server.request('GET', '/api/setup')).json()) as { completed_at: string | null }).completed_at, null);
      const actions = (await audit(server)).map((e) => e.action);
      for (const action of ['setup.complete', 'settings.update', 'key.create']) assert.ok(actions.includes(action), `${action} audited: ${actions.join(', ')}`);

      // The Settings page shows the pending change; a new sign-in goes straight to the console.
      await page.goto('about:blank');
      await page.goto(`${server.baseUrl}/#/settings`);
      await page.getByLabel('Admin key').fill(server.adminKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
      assert.match(await page.getByTestId('serve-scope-now').innerText(), /After the next restart: the office network\./);
      assert.equal(await page.getByRole('heading', { name: 'Set up Inferbox' }).count(), 0);
    } finally {
      await page.close();
      await server.cleanup();
    }
  });

  test('desktop app: the network choice goes to the desktop bridge (which restarts the server); the tray-less Settings switch too', async () => {
    // The desktop app passes --host itself: for the server the address is a flag, for the console the bridge decides.
    const server = await startTestServer();
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    watch(page);
    try {
      await page.addInitScript({
        content: `window.__serveLanCalls = []; let lan = false;
          window.inferboxDesktop = {
            getAdminKey: async () => ${JSON.stringify(server.adminKey)},
            getServeLan: async () => lan,
            setServeLan: async (value) => { window.__serveLanCalls.push(value); lan = value; return true; },
          };`,
      });
      await page.goto(`${server.baseUrl}/`);
      await page.getByRole('heading', { level: 1, name: 'Set up Inferbox' }).waitFor();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('radio', { name: /The office network/ }).check();
      await page.getByText('or from the tray icon', { exact: false }).waitFor();
      assert.equal(await page.getByRole('radio', { name: /The office network/ }).isDisabled(), false, 'not locked by the desktop app\'s own --host');
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('button', { name: 'Next' }).click(); // no app key now
      await page.getByText('No app key yet', { exact: false }).waitFor();
      await page.getByRole('button', { name: 'Finish' }).click();
      await page.getByRole('status').filter({ hasText: 'Restarting the appliance on the new address' }).waitFor();
      assert.deepEqual(await page.evaluate('window.__serveLanCalls'), [true]);
      const settings = (await (await server.request('GET', '/api/settings')).json()) as { saved: Record<string, unknown> };
      assert.ok(!('host' in settings.saved), 'the desktop app keeps the choice, not the server settings');

      await page.goto(`${server.baseUrl}/#/settings`);
      await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
      assert.equal(await page.getByRole('radio', { name: /The office network/ }).isChecked(), true);
      await page.getByRole('radio', { name: /This computer only/ }).check();
      const network = page.getByRole('region', { name: 'Network' });
      await network.getByRole('button', { name: 'Apply' }).click();
      await network.getByRole('status').filter({ hasText: 'Restarting the appliance' }).waitFor();
      assert.deepEqual(await page.evaluate('window.__serveLanCalls'), [true, false]);
    } finally {
      await page.close();
      await server.cleanup();
    }
  });

  test('skipping finishes the wizard without changing anything; a flag-set address is shown as such', async () => {
    const server = await startTestServer();
    const page = await browser.newPage();
    watch(page);
    try {
      await signIn(page, server);
      await page.getByRole('button', { name: 'Next' }).click();
      assert.equal(await page.getByRole('radio', { name: /The office network/ }).isDisabled(), true, 'set by --host for this run');
      await page.getByText('Set for this run by --host or INFERBOX_HOST', { exact: false }).waitFor();
      await page.getByRole('button', { name: 'Skip setup' }).click();
      await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
      const settings = (await (await server.request('GET', '/api/settings')).json()) as { saved: Record<string, unknown> };
      assert.deepEqual(settings.saved, {});
      assert.equal(((await (await server.request('GET', '/api/keys')).json()) as { keys: unknown[] }).keys.length, 1, 'only the admin key');
      assert.deepEqual((await audit(server)).filter((e) => e.action === 'setup.complete').length, 1);
    } finally {
      await page.close();
      await server.cleanup();
    }
  });
});
