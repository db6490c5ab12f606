import { snakeCaseKeys } from '../../common/snakeCaseKeys.js';
import { inferboxError } from '../../common/errors.js';
import { describeCertificate } from '../../tls/describeCertificate.js';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import { readRawBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';

/** A key and a chain of a few certificates are a few KiB; this leaves room for long chains. */
const MAX_PEM_BYTES = 256 * 1024;
const PEM_TYPES = ['application/x-pem-file', 'application/pem-certificate-chain', 'text/plain'];

/** The serving certificate: what it is, the PEM to trust or pin, an admin's own pair, a new self-signed pair. */
export function tlsRoutes(services: AppServices): RouteSpec[] {
  const view = () => snakeCaseKeys(services.tls.status()) as Record<string, unknown>;
  return [
    { method: 'GET', path: '/api/tls', access: 'admin', handler: (ctx) => { ctx.body = view(); } },
    {
      method: 'GET',
      path: '/api/tls/certificate',
      access: 'admin',
      handler: (ctx) => {
        const pem = services.tls.certificatePem();
        if (pem === null) throw inferboxError('IBX_ERR_TLS_NO_CERTIFICATE');
        ctx.type = 'application/x-pem-file';
        ctx.attachment('inferbox.crt');
        ctx.body = pem;
      },
    },
    {
      method: 'PUT',
      path: '/api/tls/certificate',
      access: 'admin',
      handler: async (ctx) => {
        if (!ctx.request.is(PEM_TYPES)) throw inferboxError('IBX_ERR_UNSUPPORTED_MEDIA_TYPE', ctx.request.type || '(none)', `the private key and the certificate chain in one PEM text as ${PEM_TYPES[0]}`);
        const previous = services.tls.status().certificate?.fingerprintSha256 ?? null;
        const bundle = (await readRawBody(ctx.req, MAX_PEM_BYTES)).toString('utf8');
        const { stored, applied } = await services.tls.upload(bundle);
        const described = describeCertificate(stored.cert);
        auditAction(services, ctx, 'tls.upload', described.fingerprintSha256, {
          subject: described.subject,
          issuer: described.issuer,
          dns_names: described.dnsNames,
          ip_addresses: described.ipAddresses,
          valid_to: described.validTo,
          previous_fingerprint_sha256: previous,
        });
        ctx.body = { ...view(), applied };
      },
    },
    {
      method: 'POST',
      path: '/api/tls/regenerate',
      access: 'admin',
      handler: async (ctx) => {
        const previous = services.tls.status().certificate?.fingerprintSha256 ?? null;
        const { stored, applied } = await services.tls.regenerate();
        auditAction(services, ctx, 'tls.regenerate', describeCertificate(stored.cert).fingerprintSha256, { previous_fingerprint_sha256: previous });
        ctx.body = { ...view(), applied };
      },
    },
  ];
}
