import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boundedJson } from '../../../server/common/boundedJson.js';

test('within its bounds it writes what JSON.stringify writes', () => {
  const values: unknown[] = [
    null, true, 0, -1.5e-300, 'a "quoted"\n\u2028 string', [], {}, [1, 2, [3, [4]]], { a: 1, b: [true, null, 'x'], c: { d: {} } },
    { skipped: undefined, kept: 1, list: [undefined, 2], nan: Number.NaN, when: new Date(0) },
    JSON.parse('{"inputs":[{"name":"x","datatype":"FP32","shape":[2,2],"data":[[1,2],[3,4]]}],"parameters":{"__proto__":1}}'),
  ];
  for (const value of values) assert.deepEqual(boundedJson(value, 64, 1_000_000), { text: JSON.stringify(value), cut: { deep: false, long: false } }, JSON.stringify(value));
});

test('deeper values become a marker; the text stops after maxChars; 100,000 levels take no stack', () => {
  assert.deepEqual(boundedJson({ a: [[[1]]], b: 2 }, 2, 100), { text: '{"a":["…(nested too deep)"],"b":2}', cut: { deep: true, long: false } });
  const long = boundedJson(Array.from({ length: 1000 }, (_, i) => ({ i })), 64, 50);
  assert.equal(long.text, JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ i }))).slice(0, 50));
  assert.deepEqual(long.cut, { deep: false, long: true });
  const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
  assert.throws(() => JSON.stringify(deep), RangeError, 'the reason it exists');
  const bounded = boundedJson(deep, 64, 65_536);
  assert.equal(bounded.text, `${'['.repeat(64)}"…(nested too deep)"${']'.repeat(64)}`);
  assert.equal(bounded.cut.deep, true);
});
