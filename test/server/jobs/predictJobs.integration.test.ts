/**
 * Prediction jobs (issue 11): the jobs API takes rows of named features as CSV (header = feature
 * names), JSON lines or JSON, checks them against the card at submission, and answers labels and
 * scores, downloadable as CSV or JSON lines.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../helpers/testServer.js';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(() => server.cleanup());

interface JobView { id: string; state: string; kind: string; total: number; done: number; failed: number; results?: { index: number; prediction?: { label: string; scores: Record<string, number> }; error?: string }[] }

async function submit(body: string, contentType: string, query: string): Promise<Response> {
  return server.request('POST', `/api/jobs${query}`, { body, headers: { 'content-type': contentType } });
}

async function finished(response: Response): Promise<JobView> {
  assert.equal(response.status, 202, await response.clone().text());
  const { id } = (await response.json()) as JobView;
  for (;;) {
    const job = (await (await server.request('GET', `/api/jobs/${id}`)).json()) as JobView;
    if (job.state !== 'queued' && job.state !== 'running') return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const CSV = [
  'body_mass_g,beak_length_mm,beak_depth_mm,flipper_length_mm', // any column order: the header names them
  '5076,47.5,15.0,217',
  '"3750",39.1,18.7,181',
  '',
  '3800,49.5,19.0,200',
].join('\n');

describe('prediction jobs', () => {
  test('a CSV of named features runs as a job; labels match the interactive answer; CSV and JSON-lines downloads', async () => {
    const job = await finished(await submit(CSV, 'text/csv', '?model=mlp&kind=predict'));
    assert.equal(job.state, 'succeeded');
    assert.equal(job.kind, 'predict');
    assert.deepEqual([job.total, job.done, job.failed], [3, 3, 0]);
    const interactive = (await (await server.request('POST', '/api/predict/mlp', { json: { rows: [{ body_mass_g: 5076, beak_length_mm: 47.5, beak_depth_mm: 15.0, flipper_length_mm: 217 }] } })).json()) as { predictions: unknown[] };
    assert.deepEqual(job.results![0]!.prediction, interactive.predictions[0]);
    assert.deepEqual(job.results!.map((r) => r.prediction!.label), ['Gentoo', 'Adelie', 'Chinstrap']);

    const csv = await (await server.request('GET', `/api/jobs/${job.id}/results?format=csv`)).text();
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], 'index,label,score,score_Adelie,score_Chinstrap,score_Gentoo,error');
    assert.match(lines[1]!, /^0,Gentoo,0\.9\d*,[^,]+,[^,]+,0\.9\d*,$/);
    const jsonl = (await (await server.request('GET', `/api/jobs/${job.id}/results`)).text()).trim().split('\n').map((l) => JSON.parse(l) as { index: number; prediction: { label: string } });
    assert.deepEqual(jsonl.map((l) => [l.index, l.prediction.label]), [[0, 'Gentoo'], [1, 'Adelie'], [2, 'Chinstrap']]);
  });

  test('JSON rows and JSON lines work too', async () => {
    const fromJson = await finished(await submit(JSON.stringify({ model: 'mlp', rows: [{ beak_length_mm: 39.1, beak_depth_mm: 18.7, flipper_length_mm: 181, body_mass_g: 3750 }] }), 'application/json', ''));
    assert.equal(fromJson.results![0]!.prediction!.label, 'Adelie');
    const fromLines = await finished(await submit('{"beak_length_mm": 47.5, "beak_depth_mm": 15, "flipper_length_mm": 217, "body_mass_g": 5076}\n', 'application/x-ndjson', '?model=mlp&kind=predict'));
    assert.equal(fromLines.results![0]!.prediction!.label, 'Gentoo');
  });

  test('bad rows refuse the whole upload, naming the line and the feature', async () => {
    const bad = await submit('beak_length_mm,beak_depth_mm,flipper_length_mm,body_mass_g\n47.5,15,217,5076\n47.5,deep,217,\n', 'text/csv', '?model=mlp&kind=predict');
    assert.equal(bad.status, 400);
    const { error } = (await bad.json()) as { error: string };
    assert.match(error, /line 3\.beak_depth_mm: expected a number, got "deep"; line 3\.body_mass_g: missing/);
    const ragged = await submit('beak_length_mm,beak_depth_mm\n1,2,3\n', 'text/csv', '?model=mlp&kind=predict');
    assert.equal(ragged.status, 400);
    assert.match(((await ragged.json()) as { error: string }).error, /job input, line 2: Invalid Record Length/);
    const mixed = await submit(JSON.stringify({ model: 'mlp', rows: [{}], items: [{}] }), 'application/json', '');
    assert.equal(mixed.status, 400);
    const wrongKind = await submit(JSON.stringify({ model: 'mlp', items: [{ inputs: [] }] }), 'application/json', '?kind=predict');
    assert.equal(wrongKind.status, 400);
  });
});
