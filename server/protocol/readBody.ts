import getRawBody from 'raw-body';
import { inferboxError } from '../common/errors.js';
import type { AppContext } from './AppContext.js';

/** Reads the whole body up to `limit` bytes (413 beyond it; Content-Length is checked first). */
export async function readRawBody(ctx: AppContext, limit: number): Promise<Buffer> {
  const length = ctx.get('content-length');
  return getRawBody(ctx.req, { limit, ...(length ? { length } : {}) });
}

/** Parses a JSON body; an empty or malformed body is a 400 that says what is wrong. */
export async function readJsonBody(ctx: AppContext, limit: number): Promise<{ value: unknown; bytes: number }> {
  const raw = await readRawBody(ctx, limit);
  if (raw.length === 0) throw inferboxError('IBX_ERR_INVALID_JSON', 'the body is empty');
  try {
    return { value: JSON.parse(raw.toString('utf8')) as unknown, bytes: raw.length };
  } catch (error) {
    throw inferboxError('IBX_ERR_INVALID_JSON', (error as Error).message);
  }
}
