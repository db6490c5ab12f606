import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
/** The pool as hex, converted once per refill: slicing a string is far cheaper than a hex conversion per id. */
let hexPool = '';
let offset = POOL_BYTES;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** `bytes` random bytes as hex, from a pool refilled 4 KiB at a time (one refill per ~170 requests, not one per id). */
function randomHex(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    hexPool = pool.toString('hex');
    offset = 0;
  }
  const hex = hexPool.slice(offset * 2, (offset + bytes) * 2);
  offset += bytes;
  return hex;
}

/**
 * W3C trace and span ids for requests while tracing is off (the OpenTelemetry SDK makes its own
 * when on, and is not loaded otherwise). Cryptographically random, so ids cannot be guessed; an
 * all-zero id (invalid in W3C Trace Context) has probability 2^-64 or less and is redrawn.
 */
export const randomTraceIds = {
  traceId(): string {
    const id = randomHex(16);
    return id === ZERO_TRACE_ID ? randomTraceIds.traceId() : id;
  },
  spanId(): string {
    const id = randomHex(8);
    return id === ZERO_SPAN_ID ? randomTraceIds.spanId() : id;
  },
};
