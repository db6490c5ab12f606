import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Next } from 'koa';
import helmet from 'helmet';
import type { AppContext } from '../AppContext.js';

/**
 * Helmet's defaults (nosniff, Referrer-Policy no-referrer, X-Frame-Options, Cross-Origin-Opener-
 * and -Resource-Policy, Origin-Agent-Cluster, …) on every response, API and console alike. The
 * policy here fits JSON: nothing on an API answer may load or frame anything; the console's routes
 * replace it with the console's own CSP.
 */
const common = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  // Referrers would carry model names and job ids in URLs to other sites.
  referrerPolicy: { policy: 'no-referrer' as const },
  xFrameOptions: { action: 'deny' as const },
};

/**
 * HSTS only over HTTPS (RFC 6797 §7.2: a plain-HTTP answer must not carry it). A year, without
 * includeSubDomains: the appliance speaks for its own host name, not for names under it, and
 * browsers ignore HSTS from a certificate they do not trust, so it bites only once the admin has
 * made the certificate trusted, which is when it should.
 */
const overHttps = helmet({ ...common, strictTransportSecurity: { maxAge: 365 * 24 * 3600, includeSubDomains: false } });
const overHttp = helmet({ ...common, strictTransportSecurity: false });

/**
 * What helmet sets, computed once: its headers depend only on the options above, never on the
 * request, so a response copies a list instead of running helmet's eleven middlewares each time.
 */
function recordHeaders(middleware: typeof overHttp): readonly (readonly [string, string])[] {
  const headers = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: string) => headers.set(name, value),
    removeHeader: (name: string) => headers.delete(name),
  };
  // Helmet sets the headers and calls back synchronously.
  middleware({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => { if (error) throw error; });
  return [...headers];
}

const HTTPS_HEADERS = recordHeaders(overHttps);
const HTTP_HEADERS = recordHeaders(overHttp);
const HTTPS_FLAT = HTTPS_HEADERS.flat();
const HTTP_FLAT = HTTP_HEADERS.flat();

/**
 * The security headers of every answer, over HTTPS (with HSTS) or plain HTTP, as the flat
 * name, value, name, value… list `writeHead` takes (the inference routes write their headers in one
 * call, without a `setHeader` per header).
 */
export function securityHeaderPairs(secure: boolean): readonly string[] {
  return secure ? HTTPS_FLAT : HTTP_FLAT;
}

export async function securityHeaders(ctx: AppContext, next: Next): Promise<void> {
  for (const [name, value] of ctx.secure ? HTTPS_HEADERS : HTTP_HEADERS) ctx.res.setHeader(name, value);
  await next();
}
