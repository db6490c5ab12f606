import type { Next } from 'koa';
import type { Logger } from 'pino';
import { InferboxError, inferboxError } from '../../common/errors.js';
import type { AppContext } from '../AppContext.js';

/** Errors Koa's own helpers (body readers, router) raise carry an HTTP status. */
function fromHttpError(error: unknown): InferboxError | undefined {
  const e = error as { status?: number; type?: string; limit?: number; expose?: boolean; message?: string };
  if (e.type === 'entity.too.large') return inferboxError('IBX_ERR_BODY_TOO_LARGE', String(e.limit ?? 'the'));
  if (e.status === 400 && e.expose) return inferboxError('IBX_ERR_INVALID_REQUEST', e.message ?? 'bad request');
  return undefined;
}

/**
 * The one place errors become responses, in the OIP v2 shape {"error": "..."}. Expected errors
 * show their message; anything else is a bug: a generic 500, with the stack in the log.
 */
export function handleErrors(logger: Logger) {
  return async (ctx: AppContext, next: Next): Promise<void> => {
    try {
      await next();
    } catch (caught) {
      const error = caught instanceof InferboxError ? caught : fromHttpError(caught);
      if (error) {
        ctx.status = error.status;
        ctx.set(error.headers);
        ctx.body = { error: error.message };
        return;
      }
      logger.error({ err: caught, requestId: ctx.state.requestId, method: ctx.method, path: ctx.path }, 'unexpected error');
      ctx.status = 500;
      ctx.body = { error: inferboxError('IBX_ERR_INTERNAL').message };
    }
  };
}
