import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matches, type RequestAttributes } from '../../../server/experiments/targeting.js';

const request = (headers: Record<string, string>, parameters: Record<string, unknown> = {}): RequestAttributes => ({ headers, parameters });

test('targeting: equals, in, not in, numeric comparisons on headers and OIP parameters, combined with all/any', () => {
  const de = request({ 'x-country': 'de', 'x-age': '42' }, { tier: 'gold', score: 0.7, beta: true });
  assert.equal(matches({ attribute: 'header.x-country', op: 'eq', value: 'de' }, de), true);
  assert.equal(matches({ attribute: 'header.X-Country', op: 'eq', value: 'de' }, de), true, 'header names are case-insensitive');
  assert.equal(matches({ attribute: 'header.x-country', op: 'neq', value: 'de' }, de), false);
  assert.equal(matches({ attribute: 'header.x-country', op: 'in', value: ['at', 'de'] }, de), true);
  assert.equal(matches({ attribute: 'header.x-country', op: 'not_in', value: ['at', 'ch'] }, de), true);
  assert.equal(matches({ attribute: 'header.x-age', op: 'gte', value: 42 }, de), true, 'a header read as a number');
  assert.equal(matches({ attribute: 'header.x-age', op: 'gt', value: 42 }, de), false);
  assert.equal(matches({ attribute: 'header.x-age', op: 'eq', value: 42 }, de), true);
  assert.equal(matches({ attribute: 'param.score', op: 'lt', value: 0.8 }, de), true);
  assert.equal(matches({ attribute: 'param.score', op: 'lte', value: 0.5 }, de), false);
  assert.equal(matches({ attribute: 'param.beta', op: 'eq', value: true }, de), true);
  assert.equal(matches({ all: [{ attribute: 'param.tier', op: 'eq', value: 'gold' }, { attribute: 'header.x-country', op: 'in', value: ['fr'] }] }, de), false);
  assert.equal(matches({ any: [{ attribute: 'param.tier', op: 'eq', value: 'gold' }, { attribute: 'header.x-country', op: 'in', value: ['fr'] }] }, de), true);
  assert.equal(matches({ all: [{ any: [{ attribute: 'param.tier', op: 'eq', value: 'silver' }, { attribute: 'header.x-age', op: 'lt', value: 50 }] }, { attribute: 'param.beta', op: 'neq', value: false }] }, de), true, 'nested');
});

test('targeting: a missing attribute matches only neq and not_in; a non-number never compares', () => {
  const bare = request({});
  assert.equal(matches({ attribute: 'header.x-country', op: 'eq', value: 'de' }, bare), false);
  assert.equal(matches({ attribute: 'header.x-country', op: 'in', value: ['de'] }, bare), false);
  assert.equal(matches({ attribute: 'header.x-country', op: 'neq', value: 'de' }, bare), true);
  assert.equal(matches({ attribute: 'header.x-country', op: 'not_in', value: ['de'] }, bare), true);
  assert.equal(matches({ attribute: 'header.x-age', op: 'gt', value: 1 }, request({ 'x-age': 'old' })), false);
  assert.equal(matches({ attribute: 'param.constructor', op: 'eq', value: 'x' }, bare), false, 'prototype names are not attributes');
});

test('targeting: a parameter that is an array, an object or null equals no scalar (matches only neq and not_in), however deep', () => {
  let deep: unknown[] = [];
  for (let i = 0; i < 10_000; i++) deep = [deep]; // String() of this overflowed the stack
  for (const x of [['de'], [['de']], { de: 1 }, null, deep]) {
    const withX = request({}, { x });
    assert.equal(matches({ attribute: 'param.x', op: 'eq', value: 'de' }, withX), false);
    assert.equal(matches({ attribute: 'param.x', op: 'in', value: ['de', 'at'] }, withX), false);
    assert.equal(matches({ attribute: 'param.x', op: 'neq', value: 'de' }, withX), true);
    assert.equal(matches({ attribute: 'param.x', op: 'not_in', value: ['de'] }, withX), true);
    assert.equal(matches({ attribute: 'param.x', op: 'gte', value: 0 }, withX), false);
  }
  assert.equal(matches({ attribute: 'param.x', op: 'eq', value: 1 }, request({}, { x: [1] })), false, '[1] is not 1');
});
