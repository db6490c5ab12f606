import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InferboxError } from '../../../server/common/errors.js';
import type { ModelSignature } from '../../../server/serving/decodeInferRequest.js';
import { decodeJsonInferBody } from '../../../server/serving/decodeJsonInferBody.js';
import { defaultDecodeThreads, JsonDecodePool } from '../../../server/serving/JsonDecodePool.js';
import { DECODE_OFF_THREAD_MIN_BYTES, shouldDecodeOffThread } from '../../../server/serving/shouldDecodeOffThread.js';
import {
  assertSameDecoded, assertSameError, asyncOutcomeOf, assertSameOutcome, errorCases, float32s, general, ocrBody, ocrSignature, outcomeOf, validCases,
} from './decodeCases.js';

/** A body as the socket gives it: its own ArrayBuffer from 4 KB up (Buffer.concat), a slice of Node's pool below. */
const fresh = (bytes: Buffer) => Buffer.concat([bytes]);

describe('through the pool, the same results and errors as inline', () => {
  let pool: JsonDecodePool;
  before(() => { pool = new JsonDecodePool({ threads: 2 }); });
  after(() => pool.close());

  for (const c of validCases()) {
    test(`valid: ${c.name}`, async () => {
      const decoded = await pool.decode(fresh(c.body), c.signature, c.binary && fresh(c.binary));
      assertSameDecoded(decoded, general(c), c.name);
    });
  }

  for (const c of errorCases()) {
    test(`error: ${c.name}`, async () => {
      const expected = outcomeOf(() => general(c));
      assertSameOutcome(await asyncOutcomeOf(() => pool.decode(fresh(c.body), c.signature, c.binary && fresh(c.binary))), expected, c.name);
    });
  }

  test('an error that is not an InferboxError (a bug) comes back as a plain Error with its message', async () => {
    // A signature with no shape: decodeInferRequest trips over it (a TypeError, in the worker).
    const broken = { ...ocrSignature, inputs: [{ name: 'x', datatype: 'FP32', shape: null }] } as unknown as ModelSignature;
    const body = ocrBody();
    const inline = outcomeOf(() => decodeJsonInferBody(body, broken));
    assert.ok(!inline.ok && inline.error instanceof TypeError);
    const pooled = await asyncOutcomeOf(() => pool.decode(fresh(body), broken));
    assert.ok(!pooled.ok && pooled.error instanceof Error && !(pooled.error instanceof InferboxError));
    assertSameError(pooled.error, inline.error);
    assert.match(String((pooled.error as Error).stack), /decodeInferRequest/, 'the stack is the worker\'s');
  });

  test('only the signature\'s data travels: a richer object (methods, extra fields) is fine', async () => {
    const rich = { ...ocrSignature, version: 3, describe: () => 'not cloneable', inputs: ocrSignature.inputs.map((spec) => ({ ...spec, check: () => true })) };
    assertSameDecoded(await pool.decode(fresh(ocrBody()), rich), general({ body: ocrBody(), signature: ocrSignature }));
  });

  test("an input called '__proto__' is an own key of feeds, which have no prototype", async () => {
    const signature: ModelSignature = { name: 'm', inputs: [{ name: '__proto__', datatype: 'FP32', shape: [-1] }], outputs: [] };
    const decoded = await pool.decode(Buffer.from(JSON.stringify({ inputs: [{ name: '__proto__', datatype: 'FP32', shape: [2], data: [1, 2] }] })), signature);
    assert.equal(Object.getPrototypeOf(decoded.feeds), null);
    assert.ok(Object.hasOwn(decoded.feeds, '__proto__'));
    assert.deepEqual(Array.from(decoded.feeds['__proto__']!.data as Float32Array), [1, 2]);
  });

  test('a body that owns its ArrayBuffer moves to the worker; a slice of a larger buffer is copied and stays', async () => {
    const owned = fresh(ocrBody());
    assert.equal(owned.byteLength, owned.buffer.byteLength);
    const moved = pool.decode(owned, ocrSignature);
    assert.equal(owned.byteLength, 0, 'transferred');
    await moved;

    const backing = Buffer.concat([Buffer.alloc(16), ocrBody(), Buffer.alloc(16)]);
    const slice = backing.subarray(16, backing.length - 16);
    assertSameDecoded(await pool.decode(slice, ocrSignature), general({ body: ocrBody(), signature: ocrSignature }));
    assert.equal(backing.length, ocrBody().length + 32, 'copied, not transferred');
    assert.equal(slice.toString('utf8', 0, 5), '{"id"');
  });

  test('a JSON header and its binary part, two views of one body buffer, move together', async () => {
    const c = validCases().find((v) => v.binary)!;
    const raw = Buffer.from(new ArrayBuffer(c.body.length + c.binary!.length)); // its own buffer, as a body read whole is
    raw.set(c.body);
    raw.set(c.binary!, c.body.length);
    const header = raw.subarray(0, c.body.length);
    const binary = raw.subarray(c.body.length);
    const decoded = await pool.decode(header, c.signature, binary);
    assert.equal(raw.byteLength, 0, 'transferred');
    assertSameDecoded(decoded, general(c));
  });

  test('100 decodes in flight all come back right, spread over the workers', async () => {
    const bodies = Array.from({ length: 100 }, (_, i) => {
      const data = float32s(i % 3 === 0 ? 27648 : 500 + i, i);
      return i % 3 === 0
        ? { body: ocrBody(data), signature: ocrSignature }
        : { body: Buffer.from(JSON.stringify({ id: `r${i}`, inputs: [{ name: 'v', datatype: 'FP32', shape: [data.length], data }] })), signature: { name: 'm', inputs: [{ name: 'v', datatype: 'FP32' as const, shape: [-1] }], outputs: [] } };
    });
    const expected = bodies.map((c) => general(c));
    const results = await Promise.all(bodies.map((c) => pool.decode(fresh(c.body), c.signature)));
    results.forEach((result, i) => assertSameDecoded(result, expected[i]!, `request ${i}`));
    assert.equal(pool.running, 2);
  });
});

test('a worker that dies fails its requests with the retryable IBX_ERR_WORKER_LOST; the next decode gets a new worker', async () => {
  const lost: string[] = [];
  const pool = new JsonDecodePool({ threads: 1, onWorkerLost: (reason) => lost.push(reason) });
  try {
    const expected = general({ body: ocrBody(), signature: ocrSignature });
    const inFlight = Array.from({ length: 20 }, () => asyncOutcomeOf(() => pool.decode(fresh(ocrBody()), ocrSignature)));
    await pool.terminateWorkerForTests();
    const outcomes = await Promise.all(inFlight);
    let failed = 0;
    for (const outcome of outcomes) {
      // One may have been answered before the thread ended; the rest fail, retryably.
      if (outcome.ok) {
        assertSameDecoded(outcome.value, expected);
        continue;
      }
      failed++;
      assert.ok(outcome.error instanceof InferboxError);
      assert.equal(outcome.error.code, 'IBX_ERR_WORKER_LOST');
      assert.equal(outcome.error.status, 503);
    }
    assert.ok(failed >= 19, `${failed} of 20 failed`);
    assert.equal(lost.length, 1);
    assert.match(lost[0]!, /JSON decode worker exited/);
    assert.equal(pool.running, 0);

    assertSameDecoded(await pool.decode(fresh(ocrBody()), ocrSignature), expected);
    assert.equal(pool.running, 1);
  } finally {
    await pool.close();
  }
});

test('close ends the workers: requests in them and after fail with IBX_ERR_SHUTTING_DOWN', async () => {
  const pool = new JsonDecodePool({ threads: 1 });
  await pool.decode(fresh(ocrBody()), ocrSignature); // started
  const inFlight = asyncOutcomeOf(() => pool.decode(fresh(ocrBody()), ocrSignature));
  await pool.close();
  const outcome = await inFlight;
  assert.ok(!outcome.ok && outcome.error instanceof InferboxError && outcome.error.code === 'IBX_ERR_SHUTTING_DOWN');
  assert.equal(pool.running, 0);
  await assert.rejects(pool.decode(fresh(ocrBody()), ocrSignature), (error: unknown) => error instanceof InferboxError && error.code === 'IBX_ERR_SHUTTING_DOWN');
});

test('the pool starts no thread until its first decode, and one more only while all are busy', async () => {
  const pool = new JsonDecodePool({ threads: 3 });
  try {
    assert.equal(pool.running, 0);
    for (let i = 0; i < 3; i++) await pool.decode(fresh(ocrBody()), ocrSignature);
    assert.equal(pool.running, 1, 'one at a time needs one thread');
  } finally {
    await pool.close();
  }
});

test('sizing and threshold', () => {
  assert.equal(defaultDecodeThreads(1), 1);
  assert.equal(defaultDecodeThreads(2), 1);
  assert.equal(defaultDecodeThreads(3), 2);
  assert.equal(defaultDecodeThreads(64), 4);
  assert.ok(new JsonDecodePool().threads >= 1);
  assert.equal(shouldDecodeOffThread(100), false);
  assert.equal(shouldDecodeOffThread(DECODE_OFF_THREAD_MIN_BYTES - 1), false);
  assert.equal(shouldDecodeOffThread(DECODE_OFF_THREAD_MIN_BYTES), true);
  assert.equal(shouldDecodeOffThread(550_000), true);
});
