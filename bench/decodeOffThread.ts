/**
 * What decoding an OIP v2 JSON infer body costs the HTTP thread, inline or handed to a
 * JsonDecodePool worker, for bodies from the mlp's ~100 bytes to PaddleOCR's classifier input
 * (1×3×48×192 FP32, ~550 KB). The numbers behind DECODE_OFF_THREAD_MIN_BYTES
 * (server/serving/shouldDecodeOffThread.ts). Run: `npx tsx bench/decodeOffThread.ts` (alone on the
 * machine: wrap it in `flock /tmp/bench.lock` where others benchmark too).
 *
 * Columns (µs per request, the best of ROUNDS rounds: others' work on a shared machine only adds
 * time, and event-loop utilisation counts time the thread was preempted as active):
 * - general: decodeInferRequest(parseJsonText(utf8)), what the server does today;
 * - inline: decodeJsonInferBody on the HTTP thread (its single-pass path from 1 KB up);
 * - handoff: the HTTP thread's time per request when a pool worker decodes (event-loop active time
 *   over the run / requests: posting, the reply's deserialisation, the promise), 1 and 16 in flight;
 * - round trip: wall time from decode() to the result, 1 in flight (latency, not HTTP-thread time).
 */
import { performance } from 'node:perf_hooks';
import { decodeInferRequest, type ModelSignature } from '../server/serving/decodeInferRequest.js';
import { decodeJsonInferBody } from '../server/serving/decodeJsonInferBody.js';
import { JsonDecodePool } from '../server/serving/JsonDecodePool.js';
import { parseJsonText } from '../server/common/parseJsonText.js';

const ROUNDS = 15;
const best = (values: number[]) => Math.min(...values);

interface Case { label: string; shape: number[] }
const CASES: Case[] = [
  { label: 'mlp (4 floats)', shape: [1, 4] },
  { label: '1 KB', shape: [1, 48] },
  { label: '8 KB', shape: [1, 400] },
  { label: '16 KB', shape: [1, 800] },
  { label: '32 KB', shape: [1, 1600] },
  { label: '64 KB', shape: [1, 3200] },
  { label: 'ocr-cls 550 KB', shape: [1, 3, 48, 192] },
];

/** Random float32 values widened to double, as numpy's tolist() or Array.from(Float32Array) send them. */
function bodyText(shape: number[]): string {
  const count = shape.reduce((a, b) => a * b, 1);
  const data = Array.from(new Float32Array(count).map(() => Math.random() * 2 - 1));
  return JSON.stringify({ id: 'bench', inputs: [{ name: 'x', shape, datatype: 'FP32', data }] });
}

const signatureOf = (shape: number[]): ModelSignature => ({
  name: 'bench',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, ...shape.slice(1)] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 2] }],
});

/** A body as raw-body hands it over (Buffer.concat: pooled below 4 KB, its own ArrayBuffer above). */
const asRead = (text: string) => Buffer.concat([Buffer.from(text)]);

function inlineMicros(decode: () => unknown, iterations: number): number {
  const rounds: number[] = [];
  for (let i = 0; i < Math.min(50, iterations); i++) decode();
  for (let r = 0; r < ROUNDS; r++) {
    const started = performance.now();
    for (let i = 0; i < iterations; i++) decode();
    rounds.push(((performance.now() - started) * 1000) / iterations);
  }
  return best(rounds);
}

async function handoffMicros(pool: JsonDecodePool, text: string, signature: ModelSignature, iterations: number, inFlight: number): Promise<{ busy: number; roundTrip: number }> {
  const busy: number[] = [];
  const trips: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Bodies made before the clock starts: the socket gives the server its bytes for free.
    const bodies = Array.from({ length: iterations }, () => asRead(text));
    let next = 0;
    const eluStart = performance.eventLoopUtilization();
    const started = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < iterations) await pool.decode(bodies[next++]!, signature);
    }));
    const wall = performance.now() - started;
    const elu = performance.eventLoopUtilization(eluStart);
    busy.push((elu.active * 1000) / iterations);
    trips.push((wall * 1000 * inFlight) / iterations);
  }
  return { busy: best(busy), roundTrip: best(trips) };
}

const pool = new JsonDecodePool();
const rows: string[][] = [];
try {
  for (const { label, shape } of CASES) {
    const text = bodyText(shape);
    const signature = signatureOf(shape);
    const body = asRead(text);
    const iterations = Math.max(20, Math.min(1000, Math.round(2e6 / body.length)));
    // Same answer either way, or the numbers mean nothing.
    const expected = decodeInferRequest(parseJsonText(body.toString('utf8'), 'the body'), signature).feeds.x!.data as Float32Array;
    const got = (await pool.decode(asRead(text), signature)).feeds.x!.data as Float32Array;
    if (Buffer.compare(Buffer.from(expected.buffer), Buffer.from(got.buffer)) !== 0) throw new Error(`${label}: the pool decoded different values`);

    const general = inlineMicros(() => decodeInferRequest(parseJsonText(body.toString('utf8'), 'the body'), signature), iterations);
    const inline = inlineMicros(() => decodeJsonInferBody(body, signature), iterations);
    await handoffMicros(pool, text, signature, Math.min(iterations, 50), 1); // warm-up
    const one = await handoffMicros(pool, text, signature, iterations, 1);
    const sixteen = await handoffMicros(pool, text, signature, iterations, 16);
    rows.push([label, String(body.length), general.toFixed(1), inline.toFixed(1), one.busy.toFixed(1), sixteen.busy.toFixed(1), one.roundTrip.toFixed(1)]);
  }
} finally {
  await pool.close();
}

const header = ['body', 'bytes', 'general µs', 'inline µs', 'handoff µs (1)', 'handoff µs (16)', 'round trip µs (1)'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
for (const row of rows) console.log(line(row));
console.log(`(${pool.threads} decode thread(s), node ${process.version}, ${new Date().toISOString().slice(0, 10)})`);
