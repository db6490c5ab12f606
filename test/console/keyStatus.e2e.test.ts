import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

/**
 * A key past its expiry is refused by the API, and the Keys page and GET /api/keys say "expired",
 * not "active" (one rule on the server, ApiKeyService.keyStatus). The API refuses an expiry in the
 * past, so the test moves one into the past in the SQLite file, as time passing would.
 */
const ARTIFACTS = join(import.meta.dirname, '../..', 'test-artifacts', 'console');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('console: key status (Chromium, end to end)', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    await server.request('POST', '/api/setup/complete');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  });
  after(async () => {
    await browser?.close();
    await server?.cleanup();
  });

  test('an expired key shows as expired (page and API), a revoked one as revoked, a live one as active', async () => {
    const create = async (name: string) => {
      const response = await server.request('POST', '/api/keys', { json: { name, scopes: ['infer'], expires_at: new Date(Date.now() + 86_400_000).toISOString() } });
      assert.equal(response.status, 201);
      const created = (await response.json()) as { id: string; key: string; status: string };
      assert.equal(created.status, 'active');
      return created;
    };
    const live = await create('still valid');
    const lapsed = await create('lapsed');
    const revoked = await create('revoked one');
    assert.equal((await server.request('DELETE', `/api/keys/${revoked.id}`)).status, 200);
    const db = new Database(join(server.dataDir, 'inferbox.db'));
    try {
      db.prepare('UPDATE api_keys SET expires_at = ? WHERE id IN (?, ?)').run(new Date(Date.now() - 60_000).toISOString(), lapsed.id, revoked.id);
    } finally {
      db.close();
    }
    // Give the server's key cache time to see the other connection's commit (EXTERNAL_CHECK_MS).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const health = (key: string) => server.request('GET', '/v2/models/mlp/ready', { key });
    assert.equal((await health(lapsed.key)).status, 401, 'the lapsed key is refused');
    assert.equal((await health(live.key)).status, 200);

    const listed = (await (await server.request('GET', '/api/keys')).json()) as { keys: { id: string; status: string }[] };
    const statusOf = (id: string) => listed.keys.find((k) => k.id === id)?.status;
    assert.deepEqual([statusOf(live.id), statusOf(lapsed.id), statusOf(revoked.id)], ['active', 'expired', 'revoked']);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${server.baseUrl}/#/keys`);
    await page.getByLabel('Admin key').fill(server.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    const cell = (id: string) => page.locator('tr', { has: page.locator('code', { hasText: id }) }).locator('td').nth(7);
    await cell(lapsed.id).waitFor();
    assert.equal((await cell(lapsed.id).innerText()).trim(), 'expired');
    assert.equal((await cell(live.id).innerText()).trim(), 'active');
    assert.equal((await cell(revoked.id).innerText()).trim(), 'revoked');
    await page.screenshot({ path: join(ARTIFACTS, 'keys-status.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });
});
