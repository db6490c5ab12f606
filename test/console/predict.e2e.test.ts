import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

/**
 * Issue 11 in the console (real Chromium, real server): the bundled model's card in the editor,
 * a refused card with its reasons, "Predict with named features", and a batch prediction job with
 * its progress bar and CSV download. Screenshots go to test-artifacts/console/.
 */
const ROOT = join(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('named-feature predictions in the console (Chromium, end to end)', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let work: string;
  const pageProblems: string[] = [];
  const panel = () => page.locator('section', { has: page.getByRole('heading', { name: 'mlp', exact: true }) });

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    work = await mkdtemp(join(tmpdir(), 'inferbox-predict-e2e-'));
    server = await startTestServer();
    await server.request('POST', '/api/setup/complete');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page.on('pageerror', (error) => pageProblems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      // The refused card is one expected 422.
      if (message.type() === 'error' && !/status of 422/.test(message.text())) pageProblems.push(`console: ${message.text()}`);
    });
    await page.goto(`${server.baseUrl}/`);
    await page.getByLabel('Admin key').fill(server.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.goto(`${server.baseUrl}/#/models`);
    await panel().getByRole('heading', { name: 'mlp', exact: true }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await server?.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  test('the card editor shows the bundled card, saves an edit, and shows why a bad card is refused', async () => {
    await panel().getByText('Model card', { exact: true }).click();
    const owner = panel().getByLabel('Owner');
    await owner.waitFor();
    assert.equal(await owner.inputValue(), 'Inferbox (bundled demo model)');
    assert.equal(await panel().getByLabel('Feature 1 name').inputValue(), 'beak_length_mm');
    await owner.fill('Sales ops');
    await panel().getByRole('button', { name: 'Save card' }).click();
    await panel().getByRole('status').filter({ hasText: 'Saved: the card fits the model.' }).waitFor();
    const saved = (await (await server.request('GET', '/api/models/mlp/card')).json()) as { card: { owner: string } };
    assert.equal(saved.card.owner, 'Sales ops');

    await panel().getByLabel('Labels (comma-separated, in score order; none for a regression)').fill('Adelie, Gentoo');
    await panel().getByRole('button', { name: 'Save card' }).click();
    await panel().getByRole('alert').filter({ hasText: 'gives 3 scores per row' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'model-card-refused.png'), fullPage: true });
    await panel().getByLabel('Labels (comma-separated, in score order; none for a regression)').fill('Adelie, Chinstrap, Gentoo');
  });

  test('"Predict with named features" answers a label from the form', async () => {
    await panel().getByText('Predict with named features').click();
    await panel().getByLabel('beak_length_mm (Beak Length (mm))').fill('47.5');
    await panel().getByLabel('beak_depth_mm (Beak Depth (mm))').fill('15');
    await panel().getByLabel('flipper_length_mm (Flipper Length (mm))').fill('217');
    await panel().getByLabel('body_mass_g (Body Mass (g))').fill('5076');
    await panel().getByRole('button', { name: 'Predict' }).click();
    await panel().getByTestId('predict-label').filter({ hasText: 'Gentoo' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'predict-form.png'), fullPage: true });
  });

  test('a CSV batch runs as a prediction job with a progress bar, and its results download as CSV', async () => {
    const csv = join(work, 'penguins.csv');
    await writeFile(csv, ['beak_length_mm,beak_depth_mm,flipper_length_mm,body_mass_g', ...Array.from({ length: 40 }, (_, i) => (i % 2 ? '47.5,15,217,5076' : '39.1,18.7,181,3750'))].join('\n'));
    await panel().getByText('Batch prediction (CSV or JSON lines)').click();
    await panel().getByLabel('Rows file (CSV with the feature names as header, or JSON lines)').setInputFiles(csv);
    const progress = panel().getByRole('progressbar', { name: 'Job progress' });
    await progress.waitFor();
    assert.equal(await progress.getAttribute('max'), '40');
    await panel().getByText('40 / 40 rows, 0 failed — succeeded').waitFor({ timeout: 30_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), panel().getByRole('button', { name: 'Download results (CSV)' }).click()]);
    const lines = (await readFile(await download.path(), 'utf8')).trim().split('\n');
    assert.equal(lines[0], 'index,label,score,score_Adelie,score_Chinstrap,score_Gentoo,error');
    assert.equal(lines.length, 41);
    assert.match(lines[1]!, /^0,Adelie,/);
    assert.match(lines[2]!, /^1,Gentoo,/);
    await page.screenshot({ path: join(ARTIFACTS, 'batch-predict.png'), fullPage: true });
    assert.deepEqual(pageProblems, []);
  });
});
