import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/** `bytes` random bytes as hex, from a pool refilled 4 KiB at a time (one call per ~170 requests, not one each). */
function randomHex(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
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
    return id === '0'.repeat(32) ? randomTraceIds.traceId() : id;
  },
  spanId(): string {
    const id = randomHex(8);
    return id === '0'.repeat(16) ? randomTraceIds.spanId() : id;
  },
};
