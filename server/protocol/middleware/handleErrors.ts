import type { Next } from 'koa';
import type { Logger } from 'pino';
import { InferboxError, inferboxError } from '../../common/errors.js';
import type { AppContext } from '../AppContext.js';

/**
 * The one place errors become responses, in the OIP v2 shape {"error": "..."}. Expected errors
 * show their message; anything else is a bug: a generic 500, with the stack in the log.
 */
export function handleErrors(logger: Logger) {
  return async (ctx: AppContext, next: Next): Promise<void> => {
    try {
      await next();
    } catch (caught) {
      if (caught instanceof InferboxError) {
        ctx.status = caught.status;
        ctx.set(caught.headers);
        // RFC 9110: a 401 names the scheme the client should use.
        if (caught.status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="inferbox"');
        ctx.body = { error: caught.message };
        return;
      }
      logger.error({ err: caught, requestId: ctx.state.requestId, method: ctx.method, path: ctx.path }, 'unexpected error');
      ctx.status = 500;
      ctx.body = { error: inferboxError('IBX_ERR_INTERNAL').message };
    }
  };
}
