/**
 * JSON infer bodies of this many bytes and more are worth decoding in a JsonDecodePool worker;
 * smaller ones are decoded on the HTTP thread. Measured with bench/decodeOffThread.ts (2-core EPYC
 * VM, Node 20, one decode thread, random FP32 bodies, best of 15 rounds, three runs): handing a
 * body off costs the HTTP thread 24-33 µs up to 64 KB and ~40 µs at 550 KB (15-26 µs with 16 in
 * flight), whatever the size; decoding it inline with decodeJsonInferBody costs ~3 µs at 160 B,
 * 6-7 µs at 1 KB, 24-32 µs at 8 KB, 46-59 µs at 16 KB, 89-115 µs at 32 KB, 174-227 µs at 64 KB and
 * 1.8-2.6 ms at 550 KB. Break-even is about 8 KB, where a hand-off saves the HTTP thread nothing
 * and adds ~40 µs of latency (round trip 68-71 µs vs 24-32 µs inline); from 16 KB it halves the
 * HTTP thread's cost and more, for ~35 µs of latency.
 */
export const DECODE_OFF_THREAD_MIN_BYTES = 16 * 1024;

/** Whether a JSON infer body of `bodyBytes` is worth decoding in a worker thread. */
export function shouldDecodeOffThread(bodyBytes: number): boolean {
  return bodyBytes >= DECODE_OFF_THREAD_MIN_BYTES;
}
