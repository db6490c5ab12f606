import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { requestIdFrom } from '../common/requestIdFrom.js';
import { isInferenceRoute, openApiPath, type InferenceRoute, type RouteSpec } from './routeTable.js';

interface CompiledRoute {
  /** Literal segments as strings, parameters as their name prefixed with ':'. */
  segments: string[];
  route: string;
  spec: InferenceRoute;
}

function compile(spec: InferenceRoute): CompiledRoute {
  return { segments: spec.path.split('/'), route: openApiPath(spec.path), spec };
}

/** The route and its decoded parameters when the path is exactly one of the patterns; else null (Koa's router decides). */
function match(routes: readonly CompiledRoute[], path: string): { compiled: CompiledRoute; params: Record<string, string> } | null {
  const parts = path.split('/');
  for (const compiled of routes) {
    const { segments } = compiled;
    if (segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let matched = true;
    for (let i = 0; i < segments.length && matched; i++) {
      const segment = segments[i]!;
      const part = parts[i]!;
      if (segment.startsWith(':')) {
        if (part === '') matched = false;
        else params[segment.slice(1)] = part;
      } else {
        matched = segment === part;
      }
    }
    if (!matched) continue;
    try {
      for (const name of Object.keys(params)) params[name] = decodeURIComponent(params[name]!);
    } catch {
      return null; // a malformed escape: the router answers it as it answers any path
    }
    return { compiled, params };
  }
  return null;
}

/**
 * The server's request listener. An inference request (a POST to one of the inference routes, in
 * the exact form of its pattern) goes straight to its handler; everything else goes through Koa's
 * middleware stack and router. While CORS origins are configured every request takes the Koa
 * path, where @koa/cors answers them (preflights, Vary: Origin); the inference handlers behave the
 * same either way.
 */
export function dispatchRequests(routes: readonly RouteSpec[], koa: RequestListener, corsConfigured: () => boolean): RequestListener {
  const inference = routes.filter(isInferenceRoute).map(compile);
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && !corsConfigured()) {
      const url = req.url ?? '/';
      const query = url.indexOf('?');
      const found = match(inference, query < 0 ? url : url.slice(0, query));
      if (found) {
        const requestId = requestIdFrom(req.headers['x-request-id'] as string | undefined);
        void found.compiled.spec.infer({ req, res, params: found.params, requestId, route: found.compiled.route });
        return;
      }
    }
    void koa(req, res);
  };
}
