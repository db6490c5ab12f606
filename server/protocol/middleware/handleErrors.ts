import type { Next } from 'koa';
import type { Logger } from 'pino';
import { InferboxError, inferboxError } from '../../common/errors.js';
import { isDiskFull } from '../../common/isDiskFull.js';
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
      // A full disk is the box's condition, not a bug: any write that hits it (a new key, a setting,
      // an audit row) says so with a 507 instead of a generic 500. SQLite rolled the write back.
      const error = isDiskFull(caught) && !(caught instanceof InferboxError) ? inferboxError('IBX_ERR_DISK_FULL', `complete ${ctx.method} ${ctx.path}`) : caught;
      if (error !== caught) logger.warn({ err: caught, requestId: ctx.state.requestId }, 'disk full');
      if (error instanceof InferboxError) {
        ctx.status = error.status;
        ctx.set(error.headers);
        // RFC 9110: a 401 names the scheme the client should use.
        if (error.status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="inferbox"');
        ctx.body = { error: error.message };
        return;
      }
      logger.error({ err: caught, requestId: ctx.state.requestId, method: ctx.method, path: ctx.path }, 'unexpected error');
      ctx.status = 500;
      ctx.body = { error: inferboxError('IBX_ERR_INTERNAL').message };
    }
  };
}
