import { InferboxError, inferboxError } from '../common/errors.js';
import { isDiskFull } from '../common/isDiskFull.js';

/** How an error is answered in the OIP shape `{"error": "..."}`, and whether it must be logged. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: { error: string };
  /** 'bug': log with the stack (the caller sees a generic 500); 'disk full': log that a write hit a full disk. */
  log: 'bug' | 'disk full' | null;
}

/**
 * The one mapping of errors to answers (Koa's handleErrors and the inference routes both use it).
 * Expected errors show their message and headers; a full disk (ENOSPC, SQLITE_FULL) that is not
 * already an InferboxError is the box's condition, not a bug: a 507 for `action`; anything else is
 * a bug: a generic 500.
 */
export function errorAnswer(caught: unknown, action: string): ErrorAnswer {
  const diskFull = isDiskFull(caught) && !(caught instanceof InferboxError);
  const error = diskFull ? inferboxError('IBX_ERR_DISK_FULL', action) : caught;
  if (error instanceof InferboxError) {
    // RFC 9110: a 401 names the scheme the client should use.
    const headers = error.status === 401 ? { ...error.headers, 'WWW-Authenticate': 'Bearer realm="inferbox"' } : { ...error.headers };
    return { status: error.status, headers, body: { error: error.message }, log: diskFull ? 'disk full' : null };
  }
  return { status: 500, headers: {}, body: { error: inferboxError('IBX_ERR_INTERNAL').message }, log: 'bug' };
}
