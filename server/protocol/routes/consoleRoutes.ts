import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { send } from '@koa/send';
import { inferboxError } from '../../common/errors.js';
import type { AppContext } from '../AppContext.js';
import type { RouteSpec } from '../routeTable.js';

/**
 * The admin console's built files (renderer/dist, made by `npm run build`), served to anyone:
 * they hold no data, only the app, which signs in with a key and then calls the admin API.
 * Its own Content-Security-Policy (scripts, styles, images and API calls from this origin only)
 * replaces the API's; the other security headers come from the securityHeaders middleware.
 */
const CONSOLE_HEADERS = {
  // React and recharts set styles through the DOM style API, which style-src does not govern: no 'unsafe-inline' needed.
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

export function consoleRoutes(consoleDir: string): RouteSpec[] {
  /** Built asset names are flat (`index-<hash>.js`): anything else is not ours. */
  const ASSET_NAME = /^[\w.-]+$/;
  const serve = (file: (ctx: AppContext) => string, cache: string) => async (ctx: AppContext) => {
    ctx.set(CONSOLE_HEADERS);
    if (!existsSync(join(consoleDir, 'index.html'))) {
      ctx.status = 503;
      ctx.type = 'text/plain';
      ctx.body = 'The admin console is not built: run `npm run build` (the API works without it).';
      return;
    }
    const path = file(ctx);
    if (ctx.params.file !== undefined && (!ASSET_NAME.test(ctx.params.file) || ctx.params.file.startsWith('.'))) throw inferboxError('IBX_ERR_ROUTE_NOT_FOUND', ctx.method, ctx.path);
    try {
      // send() also refuses paths that leave consoleDir.
      await send(ctx, path, { root: consoleDir });
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status !== undefined && status >= 400 && status < 500) throw inferboxError('IBX_ERR_ROUTE_NOT_FOUND', ctx.method, ctx.path);
      throw error;
    }
    ctx.set('Cache-Control', cache);
  };
  return [
    // index.html must never be cached: it names the current build's hashed assets.
    { method: 'GET', path: '/', access: 'public', handler: serve(() => 'index.html', 'no-cache') },
    { method: 'GET', path: '/assets/:file', access: 'public', handler: serve((ctx) => join('assets', ctx.params.file!), 'public, max-age=31536000, immutable') },
  ];
}
