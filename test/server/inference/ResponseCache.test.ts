import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RuntimeTensor } from '../../../server/common/datatypes.js';
import { ResponseCache } from '../../../server/inference/ResponseCache.js';

const tensor = (values: number[]): RuntimeTensor => ({ type: 'float32', dims: [values.length], data: Float32Array.from(values) });

test('keys follow session, inputs (bytes, shape, type) and outputs asked for', () => {
  const cache = new ResponseCache(() => 1 << 20);
  const key = cache.keyOf('m/1@fp32', { x: tensor([1, 2]) }, ['y']);
  assert.equal(cache.keyOf('m/1@fp32', { x: tensor([1, 2]) }, ['y']), key);
  for (const other of [
    cache.keyOf('m/2@fp32', { x: tensor([1, 2]) }, ['y']),
    cache.keyOf('m/1@int8', { x: tensor([1, 2]) }, ['y']),
    cache.keyOf('m/1@fp32', { x: tensor([1, 3]) }, ['y']),
    cache.keyOf('m/1@fp32', { x: { ...tensor([1, 2]), dims: [2, 1] } }, ['y']),
    cache.keyOf('m/1@fp32', { x: tensor([1, 2]) }, ['z']),
  ]) assert.notEqual(other, key);
});

test('least recently used entries go first and the byte bound holds', () => {
  let limit = 3 * (16 + 64);
  const cache = new ResponseCache(() => limit);
  for (const k of ['a', 'b', 'c']) cache.set(k, { y: tensor([1, 2, 3, 4]) });
  assert.ok(cache.get('a'), 'a is now the most recently used');
  cache.set('d', { y: tensor([5, 6, 7, 8]) });
  assert.equal(cache.get('b'), undefined, 'b was the least recently used');
  assert.ok(cache.get('a') && cache.get('c') && cache.get('d'));
  assert.ok(cache.sizeBytes <= limit);
  cache.set('huge', { y: tensor(Array.from({ length: 1000 }, (_, i) => i)) });
  assert.equal(cache.get('huge'), undefined, 'an entry bigger than the whole cache is not kept');
  limit = 0;
  cache.set('e', { y: tensor([1]) });
  assert.equal(cache.get('e'), undefined);
});
