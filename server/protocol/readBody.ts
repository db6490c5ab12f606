import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { inferboxError } from '../common/errors.js';
import { parseJsonText } from '../common/parseJsonText.js';

/**
 * Reads the whole body up to `limit` bytes (413 beyond it; Content-Length is checked first).
 * raw-body's own errors become ours here, so the request log records the status the caller got.
 */
export async function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const length = req.headers['content-length'];
  try {
    return await getRawBody(req, { limit, ...(length ? { length } : {}) });
  } catch (error) {
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') throw inferboxError('IBX_ERR_BODY_TOO_LARGE', String(limit));
    throw inferboxError('IBX_ERR_INVALID_REQUEST', `the body could not be read (${type ?? (error as Error).message})`);
  }
}

/** Parses a JSON body; an empty or malformed body is a 400 that says what is wrong. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<{ value: unknown; bytes: number }> {
  const raw = await readRawBody(req, limit);
  return { value: parseJson(raw), bytes: raw.length };
}

function parseJson(raw: Buffer): unknown {
  return parseJsonText(raw.toString('utf8'), 'the body');
}
