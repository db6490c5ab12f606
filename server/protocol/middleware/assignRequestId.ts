import { randomUUID } from 'node:crypto';
import type { Next } from 'koa';
import type { AppContext } from '../AppContext.js';

/** A caller's X-Request-Id is kept when it is sane, so logs on both sides can be joined. */
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function assignRequestId(ctx: AppContext, next: Next): Promise<void> {
  const given = ctx.get('x-request-id');
  ctx.state.requestId = SANE_ID.test(given) ? given : randomUUID();
  ctx.set('X-Request-Id', ctx.state.requestId);
  await next();
}
