import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { chromium, type Browser } from 'playwright-core';
import { TuningRepository } from '../../server/store/TuningRepository.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

/**
 * The Models page's tuning panel shows a finished run (its curves, the chosen candidate, each
 * candidate's capacity within the objective), applies a candidate and reverts it in one click each,
 * and the Dashboard shows the model's headroom. The run is written to the SQLite file as the tuner
 * stores one (a real run takes a minute; test/server/tuning runs real ones).
 */
const ARTIFACTS = join(import.meta.dirname, '../..', 'test-artifacts', 'console');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const candidate = (id: string, description: string, change: Record<string, unknown> = {}) => ({
  id, description, precision: 'fp32', provider: 'cpu', min_instances: 1, max_instances: 2, intra_op_threads: 1, max_batch_size: 32, max_queue_delay_micros: 0, ...change,
});
const curve = (rps: number[], p95: number[]) => rps.map((r, i) => ({ concurrency: 2 ** i, rps: r, p50_ms: p95[i]! / 2, p95_ms: p95[i]!, errors: 0 }));

describe('console: tuning (Chromium, end to end)', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await startTestServer({ capacityAdvisor: { intervalMs: 200 } });
    await server.request('POST', '/api/setup/complete');
    assert.equal((await server.request('PUT', '/api/models/mlp/settings', { json: { latency_objective_p95_ms: 5 } })).status, 200);
    const db = new Database(join(server.dataDir, 'inferbox.db'));
    try {
      const runs = new TuningRepository(db);
      const at = new Date().toISOString();
      runs.start({
        model_name: 'mlp', version: '1', budget_seconds: 60, objective_p95_ms: 5, started_at: at,
        plan: { candidates: [candidate('current', 'how the version is served now'), candidate('batch-off', 'no dynamic batching', { max_batch_size: 1 })], skipped: [], concurrencies: [1, 2, 4, 8], level_seconds: 1.5, inputs: 'samples' },
      });
      runs.addResult('mlp', '1', { id: 'current', curve: curve([1000, 1800, 2100, 2300], [1, 2, 4, 8]), error: null, measured_at: at });
      runs.addResult('mlp', '1', { id: 'batch-off', curve: curve([1100, 2000, 2600, 2500], [0.9, 1.8, 3.5, 9]), error: null, measured_at: at });
      runs.finish('mlp', '1', { status: 'done', choice: { id: 'batch-off', by: 'capacity', capacity: { rps: 2600, concurrency: 4, p95_ms: 3.5 }, p95_at_1_ms: 0.9, reason: 'most capacity within p95 5 ms: 2600 requests/s at concurrency 4 (1.24× the current 2100)', confirmed: null }, error: null, at });
    } finally {
      db.close();
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  });
  after(async () => {
    await browser?.close();
    await server?.cleanup();
  });

  test('the panel draws the curves and the choice, applies a candidate and reverts it; the dashboard shows the headroom', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${server.baseUrl}/#/models`);
    await page.getByLabel('Admin key').fill(server.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(/^Tuning: latency objective/).click();
    await page.getByText('Choice: batch-off').waitFor();
    assert.equal(await page.getByLabel(/Latency objective, p95/).inputValue(), '5');
    const chosenRow = page.locator('tr', { hasText: 'batch-off (chosen)' });
    assert.match(await chosenRow.innerText(), /2600 requests\/s at 4 concurrent \(p95 3\.5 ms\)/);
    assert.match(await page.locator('tr', { hasText: 'how the version is served now' }).innerText(), /2100 requests\/s at 4 concurrent/);
    const charts = page.locator('[aria-label="tuning curves"]');
    assert.equal(await charts.locator('.recharts-line').count(), 4, 'two candidates, on the throughput and the p95 charts');
    assert.equal(await charts.locator('.recharts-reference-line').count(), 1, 'the objective on the p95 chart');
    await page.screenshot({ path: join(ARTIFACTS, 'tuning.png'), fullPage: true });

    await chosenRow.getByRole('button', { name: 'Apply' }).click();
    await page.getByText(/Applied: batch-off/).waitFor();
    const overrides = async () => ((await (await server.request('GET', '/api/models/mlp/settings')).json()) as { overrides: Record<string, unknown> }).overrides;
    assert.deepEqual(await overrides(), { latency_objective_p95_ms: 5, max_batch_size: 1 }, 'only what the candidate changes');
    await page.getByRole('button', { name: 'Revert to the settings before the apply' }).click();
    await page.getByText(/Applied: batch-off/).waitFor({ state: 'detached' });
    assert.deepEqual(await overrides(), { latency_objective_p95_ms: 5 });

    await page.goto(`${server.baseUrl}/#/`);
    const capacity = page.locator('section', { has: page.getByRole('heading', { name: 'Capacity' }) });
    await capacity.getByText(/mlp: 0% of capacity for p95 ≤ 5 ms \(0 of 2100 requests\/s\)/).waitFor();
    assert.deepEqual(problems, []);
  });
});
