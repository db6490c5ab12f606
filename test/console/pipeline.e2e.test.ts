import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { mkdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

/**
 * The pipeline parts of the console in a real Chromium against a real server: a version's labels
 * and metrics on the Models page, the Triton export download, and the webhooks panel sending a
 * signed test delivery to a real receiver on 127.0.0.1.
 */
const ARTIFACTS = join(import.meta.dirname, '../..', 'test-artifacts', 'console');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MLP = join(import.meta.dirname, '../../models/mlp/model.onnx');

let browser: Browser;
let server: TestServer;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => { received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }); res.writeHead(204).end(); });
});

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  server = await startTestServer();
  assert.equal((await server.request('POST', '/api/setup/complete')).status, 200);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
});
after(async () => {
  await browser?.close();
  await server?.cleanup();
  receiver.close();
});

test('Models shows labels and metrics and exports a Triton archive; Settings adds a webhook and its test delivery arrives', async () => {
  const body = new FormData();
  body.append('metadata', JSON.stringify({ labels: { git_commit: '9f2c1ab', dataset: 'penguins-2026-11' }, metrics: { accuracy: 0.957 } }));
  body.append('model', new Blob([await readFile(MLP)]), 'model.onnx');
  assert.equal((await server.request('POST', '/api/models/penguins/versions?quantize=false', { body })).status, 201);

  const problems: string[] = [];
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('dialog', (dialog) => void dialog.accept());
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
  await page.goto(`${server.baseUrl}/`);
  await page.getByLabel('Admin key').fill(server.adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();

  await page.goto(`${server.baseUrl}/#/models`);
  const panel = page.getByRole('region', { name: 'penguins' });
  const metadata = panel.getByRole('list', { name: 'labels and metrics' });
  await metadata.waitFor();
  assert.match(await metadata.innerText(), /git_commit=9f2c1ab[\s\S]*dataset=penguins-2026-11[\s\S]*accuracy: 0\.9570/);
  const [download] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: 'Export Triton' }).click()]);
  assert.equal(download.suggestedFilename(), 'penguins-1-triton.tar.gz');
  const tar = gunzipSync(await readFile((await download.path())!));
  assert.ok(tar.includes(Buffer.from('penguins/config.pbtxt')) && tar.includes(await readFile(MLP)), 'the archive holds the config and the model bytes');
  await page.screenshot({ path: join(ARTIFACTS, 'models-labels-export.png'), fullPage: true });

  await page.goto(`${server.baseUrl}/#/settings`);
  const webhooks = page.getByRole('region', { name: 'Webhooks' });
  await webhooks.getByLabel('Endpoint URL').fill('http://8.8.8.8/hook');
  await webhooks.getByRole('button', { name: 'Add webhook' }).click();
  await webhooks.getByText(/is not a loopback, private/).waitFor();
  await webhooks.getByLabel('Endpoint URL').fill(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/inferbox`);
  await webhooks.getByRole('button', { name: 'Add webhook' }).click();
  const secret = (await webhooks.getByTestId('webhook-secret').locator('code').nth(1).innerText()).trim();
  assert.match(secret, /^whsec_/);
  await webhooks.getByRole('button', { name: 'Send test' }).click();
  await webhooks.locator('table[data-testid^="deliveries-"]').getByText('delivered').waitFor({ timeout: 15_000 });
  const test = received.find((r) => r.headers['inferbox-event'] === 'webhook.test');
  assert.ok(test, 'the receiver got the test delivery');
  assert.match(String(test.headers['inferbox-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
  await page.screenshot({ path: join(ARTIFACTS, 'settings-webhooks.png'), fullPage: true });
  // The refused public URL is a 400 on purpose; Chromium logs every failed fetch as a console error.
  assert.deepEqual(problems, ['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  await context.close();
});
