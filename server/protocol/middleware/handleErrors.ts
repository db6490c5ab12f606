import type { Next } from 'koa';
import type { Logger } from 'pino';
import type { AppContext } from '../AppContext.js';
import { errorAnswer } from '../errorAnswer.js';

/**
 * The one place errors become responses on the Koa routes, in the OIP v2 shape {"error": "..."}
 * (`errorAnswer`). Expected errors show their message; anything else is a bug: a generic 500,
 * with the stack in the log.
 */
export function handleErrors(logger: Logger) {
  return async (ctx: AppContext, next: Next): Promise<void> => {
    try {
      await next();
    } catch (caught) {
      // A full disk: any write that hits it (a new key, a setting, an audit row) says so with a 507; SQLite rolled the write back.
      const answer = errorAnswer(caught, `complete ${ctx.method} ${ctx.path}`);
      if (answer.log === 'disk full') logger.warn({ err: caught, requestId: ctx.state.requestId }, 'disk full');
      if (answer.log === 'bug') logger.error({ err: caught, requestId: ctx.state.requestId, method: ctx.method, path: ctx.path }, 'unexpected error');
      ctx.status = answer.status;
      ctx.set(answer.headers);
      ctx.body = answer.body;
    }
  };
}
