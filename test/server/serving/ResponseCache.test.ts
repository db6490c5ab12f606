import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RuntimeTensor } from '../../../server/common/datatypes.js';
import { ResponseCache } from '../../../server/serving/ResponseCache.js';

const SESSION = { model: 'm', version: '1', precision: 'fp32' } as const;

const tensor = (values: number[]): RuntimeTensor => ({ type: 'float32', dims: [values.length], data: Float32Array.from(values) });

test('keys follow session, inputs (bytes, shape, type) and outputs asked for', () => {
  const cache = new ResponseCache(() => 1 << 20);
  const key = cache.keyOf({ model: 'm', version: '1', precision: 'fp32' }, { x: tensor([1, 2]) }, ['y']);
  assert.equal(cache.keyOf({ model: 'm', version: '1', precision: 'fp32' }, { x: tensor([1, 2]) }, ['y']), key);
  for (const other of [
    cache.keyOf({ model: 'm', version: '2', precision: 'fp32' }, { x: tensor([1, 2]) }, ['y']),
    cache.keyOf({ model: 'm', version: '1', precision: 'int8' }, { x: tensor([1, 2]) }, ['y']),
    cache.keyOf({ model: 'm', version: '1', precision: 'fp32' }, { x: tensor([1, 3]) }, ['y']),
    cache.keyOf({ model: 'm', version: '1', precision: 'fp32' }, { x: { ...tensor([1, 2]), dims: [2, 1] } }, ['y']),
    cache.keyOf({ model: 'm', version: '1', precision: 'fp32' }, { x: tensor([1, 2]) }, ['z']),
  ]) assert.notEqual(other, key);
});

test('least recently used entries go first and the byte bound holds', () => {
  let limit = 3 * (16 + 64);
  const cache = new ResponseCache(() => limit);
  for (const k of ['a', 'b', 'c']) cache.set(k, { y: tensor([1, 2, 3, 4]) }, SESSION);
  assert.ok(cache.get('a'), 'a is now the most recently used');
  cache.set('d', { y: tensor([5, 6, 7, 8]) }, SESSION);
  assert.equal(cache.get('b'), undefined, 'b was the least recently used');
  assert.ok(cache.get('a') && cache.get('c') && cache.get('d'));
  assert.ok(cache.sizeBytes <= limit);
  cache.set('huge', { y: tensor(Array.from({ length: 1000 }, (_, i) => i)) }, SESSION);
  assert.equal(cache.get('huge'), undefined, 'an entry bigger than the whole cache is not kept');
  limit = 0;
  cache.set('e', { y: tensor([1]) }, SESSION);
  assert.equal(cache.get('e'), undefined);
});

test('evict drops every answer of one version\'s sessions and only those', () => {
  const cache = new ResponseCache(() => 1 << 20);
  const other = { model: 'm', version: '2', precision: 'fp32' } as const;
  cache.set('a', { y: tensor([1]) }, SESSION);
  cache.set('b', { y: tensor([2]) }, SESSION);
  cache.set('c', { y: tensor([3]) }, other);
  const before = cache.sizeBytes;
  assert.equal(cache.countOf(SESSION), 2);
  cache.evict(SESSION);
  assert.equal(cache.countOf(SESSION), 0);
  assert.equal(cache.get('a'), undefined);
  assert.ok(cache.get('c'), 'another version keeps its answers');
  assert.equal(cache.countOf(other), 1);
  assert.ok(cache.sizeBytes < before && cache.sizeBytes > 0, 'the byte count follows');
});
