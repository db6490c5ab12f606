import { z } from 'zod';
import { inferboxError } from '../../common/errors.js';
import { parseRequest } from '../../common/parseRequest.js';
import { scopeSchema } from '../../auth/scopes.js';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import { readJsonBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';

/** A key's own rate limit; null or absent follows the server default (`key_rate_limit_*`), a rate of 0 is unlimited. */
const rateLimitFields = {
  rate_limit_per_second: z.number().min(0).max(1_000_000).nullable().optional(),
  rate_limit_burst: z.number().int().min(1).max(1_000_000).nullable().optional(),
};

const createKeySchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(scopeSchema).min(1),
    expires_at: z.iso.datetime({ offset: true }).nullable().optional(),
    ...rateLimitFields,
  })
  .strict();

const rateLimitSchema = z.object(rateLimitFields).strict();

const ownRateLimit = (request: z.infer<typeof rateLimitSchema>) => ({ perSecond: request.rate_limit_per_second ?? null, burst: request.rate_limit_burst ?? null });

/** API keys: created (the raw key is in this one response only), listed without secrets, rate-limited, revoked. */
export function keyRoutes(services: AppServices): RouteSpec[] {
  return [
    { method: 'GET', path: '/api/keys', access: 'admin', handler: (ctx) => { ctx.body = { keys: services.keys.list() }; } },
    {
      method: 'POST',
      path: '/api/keys',
      access: 'admin',
      handler: async (ctx) => {
        const { value } = await readJsonBody(ctx.req, 64 * 1024);
        const request = parseRequest(createKeySchema, value);
        const expiresAt = request.expires_at ? new Date(request.expires_at).toISOString() : null;
        if (expiresAt && Date.parse(expiresAt) <= Date.now()) throw inferboxError('IBX_ERR_INVALID_REQUEST', 'expires_at: must be in the future');
        const { row, key } = services.keys.createApiKey({ name: request.name, scopes: request.scopes, expiresAt, rateLimit: ownRateLimit(request) });
        auditAction(services, ctx, 'key.create', row.id, { name: row.name, scopes: row.scopes, expires_at: row.expires_at, rate_limit_per_second: row.rate_limit_per_second, rate_limit_burst: row.rate_limit_burst });
        ctx.status = 201;
        ctx.body = { ...services.keys.viewOf(row), key };
      },
    },
    {
      method: 'PUT',
      path: '/api/keys/:id/rate-limit',
      access: 'admin',
      handler: async (ctx) => {
        const { value } = await readJsonBody(ctx.req, 64 * 1024);
        const limit = ownRateLimit(parseRequest(rateLimitSchema, value));
        const id = ctx.params.id!;
        const row = services.keys.setRateLimit(id, limit);
        auditAction(services, ctx, 'key.rate_limit', id, { rate_limit_per_second: limit.perSecond, rate_limit_burst: limit.burst });
        ctx.body = row;
      },
    },
    {
      method: 'DELETE',
      path: '/api/keys/:id',
      access: 'admin',
      handler: (ctx) => {
        const id = ctx.params.id!;
        services.keys.revoke(id);
        auditAction(services, ctx, 'key.revoke', id);
        ctx.body = { id, revoked: true };
      },
    },
  ];
}
