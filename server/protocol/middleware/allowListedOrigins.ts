import cors from '@koa/cors';
import type { Next } from 'koa';
import type { AppContext } from '../AppContext.js';

/** The APIs a browser app on another origin may call; the console's own files never need CORS. */
const isApiPath = (path: string) => path.startsWith('/api/') || path === '/v2' || path.startsWith('/v2/');

/**
 * Strict CORS (Fetch standard): only the exact origins the admin listed (`cors_allowed_origins`)
 * get CORS headers, on /api and /v2; any other origin gets none, so the browser keeps the answer
 * from the page. Preflights of listed origins are answered here (204), before the key check that
 * guards OPTIONS: a preflight never carries the Authorization header. No credentials mode: keys
 * travel in Authorization, never in cookies. @koa/cors does the header work (Vary: Origin on every
 * answer, headers kept on error answers); the list is read per request, so a change applies at once.
 */
export function allowListedOrigins(origins: () => readonly string[]) {
  const middleware = cors({
    origin: (ctx) => {
      const origin = ctx.get('Origin');
      return origin !== '' && isApiPath(ctx.path) && origins().includes(origin) ? origin : '';
    },
    allowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
    // Inference-Header-Content-Length: OIP's binary tensor extension; X-Unit-Id: A/B experiment units.
    allowHeaders: ['Authorization', 'Content-Type', 'Inference-Header-Content-Length', 'X-Unit-Id', 'traceparent', 'tracestate'],
    exposeHeaders: ['Retry-After', 'Server-Timing', 'Inference-Header-Content-Length', 'Inferbox-Variant', 'X-Request-Id', 'WWW-Authenticate', 'traceparent', 'tracestate'],
    maxAge: 600,
  });
  return (ctx: AppContext, next: Next) => (origins().length === 0 ? next() : middleware(ctx, next));
}
