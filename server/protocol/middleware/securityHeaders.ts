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

export async function securityHeaders(ctx: AppContext, next: Next): Promise<void> {
  // Helmet sets the headers and calls back synchronously.
  (ctx.secure ? overHttps : overHttp)(ctx.req, ctx.res, (error?: unknown) => { if (error) throw error; });
  await next();
}
