import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { InferenceMetrics } from '../../../server/metrics/InferenceMetrics.js';

interface DocRow { type: string; labels: string[]; linuxOnly: boolean }

/** The rows of docs/METRICS.md's tables: | `name` | type | labels | meaning |. */
async function documentedMetrics(): Promise<Map<string, DocRow>> {
  const doc = await readFile(new URL('../../../docs/METRICS.md', import.meta.url), 'utf8');
  const rows = new Map<string, DocRow>();
  for (const match of doc.matchAll(/^\| `(inferbox_[a-z0-9_]+)` \| (counter|gauge|histogram|summary) \|([^|]*)\|([^|]*)\|$/gm)) {
    const labels = match[3]!.split(',').map((l) => l.trim()).filter(Boolean).sort();
    assert.ok(!rows.has(match[1]!), `${match[1]} is documented twice`);
    rows.set(match[1]!, { type: match[2]!, labels, linuxOnly: match[4]!.includes('(Linux only)') });
  }
  return rows;
}

test('every metric the registry exposes is documented in docs/METRICS.md with its type and labels, and every documented metric exists', async () => {
  const documented = await documentedMetrics();
  const registry = new InferenceMetrics().registry;
  const exposed = registry.getMetricsAsArray();
  assert.ok(exposed.length >= 30, `the registry should hold the serving and process metrics, found ${exposed.length}`);
  for (const metric of exposed) {
    const row = documented.get(metric.name);
    assert.ok(row, `${metric.name} is not in docs/METRICS.md: add a row (name, type, labels, meaning)`);
    const { type, labelNames } = (metric as unknown as { type: string; labelNames: string[] });
    assert.equal(row.type, type, `${metric.name}: the document says ${row.type}, the registry ${type}`);
    assert.deepEqual(row.labels, [...labelNames].sort(), `${metric.name}: labels differ`);
    assert.match(metric.name, /^inferbox_[a-z0-9_]+$/, 'every name has the inferbox_ prefix');
    if (type === 'counter') assert.match(metric.name, /_total$/, `${metric.name}: counters end in _total`);
  }
  const names = new Set(exposed.map((m) => m.name));
  for (const [name, row] of documented) {
    if (row.linuxOnly && process.platform !== 'linux') continue;
    assert.ok(names.has(name), `docs/METRICS.md documents ${name}, which the registry does not have: remove the row`);
  }
});
