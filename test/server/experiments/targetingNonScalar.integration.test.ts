import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { GENTOO_FEATURES, startTestServer } from '../../helpers/testServer.js';

const MLP = join(import.meta.dirname, '../../../models/mlp/model.onnx');
const INPUTS = JSON.stringify([{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }]);
/** 10,000 nested arrays: valid JSON that JSON.parse reads, and that String() or JSON.stringify cannot write back (stack overflow). */
const DEEP = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;

test('targeting on a parameter that is an array or object: never equal to a scalar, so the rule does not match (control); a deep one is answered 200, not 500', async () => {
  const server = await startTestServer();
  try {
    const upload = await server.request('POST', '/api/models/mlp/versions?quantize=false', { body: await readFile(MLP), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 201);
    const v2 = ((await upload.json()) as { version: string }).version;
    const created = await server.request('POST', '/api/experiments', {
      json: { name: 'param rule', model: 'mlp', variants: [{ name: 'control', version: '1' }, { name: 'candidate', version: v2 }], targeting: { any: [{ attribute: 'param.x', op: 'eq', value: 'a' }, { attribute: 'param.x', op: 'in', value: ['b'] }] } },
    });
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    assert.equal((await server.request('POST', `/api/experiments/${id}/start`)).status, 200);
    /** The body is written by hand: the test's own JSON.stringify would overflow on the deep value. */
    const infer = async (unit: string, x: string) => {
      const response = await server.request('POST', '/v2/models/mlp/infer', { body: `{"inputs":${INPUTS},"parameters":{"x":${x}}}`, headers: { 'content-type': 'application/json', 'x-unit-id': unit } });
      return { status: response.status, variant: response.headers.get('inferbox-variant'), body: await response.text() };
    };
    let unit = '';
    for (let i = 0; i < 50 && !unit; i++) if ((await infer(`unit-${i}`, '"a"')).variant === `${id}/candidate`) unit = `unit-${i}`;
    assert.ok(unit, 'a unit the rule sends to candidate when it matches');
    assert.equal((await infer(unit, '"b"')).variant, `${id}/candidate`, 'in matches a scalar');

    for (const [x, what] of [['["a"]', 'a one-element array (String() made it "a")'], ['{"a":1}', 'an object'], ['[["b"]]', 'a nested array under in'], [DEEP, '10,000 nested arrays']] as const) {
      const answer = await infer(unit, x);
      assert.equal(answer.status, 200, `${what}: ${answer.body.slice(0, 200)}`);
      assert.equal(answer.variant, `${id}/control`, `${what} does not match a scalar: control`);
    }
  } finally {
    await server.cleanup();
  }
});
