import type { Next } from 'koa';
import { requestIdFrom } from '../../common/requestIdFrom.js';
import type { AppContext } from '../AppContext.js';

export async function assignRequestId(ctx: AppContext, next: Next): Promise<void> {
  ctx.state.requestId = requestIdFrom(ctx.get('x-request-id'));
  ctx.set('X-Request-Id', ctx.state.requestId);
  await next();
}
