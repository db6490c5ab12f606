import { z } from 'zod';
import { inferboxError } from '../../common/errors.js';
import { parseRequest } from '../../common/parseRequest.js';
import { scopeSchema } from '../../auth/scopes.js';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import { readJsonBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';

const createKeySchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(scopeSchema).min(1),
    expires_at: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .strict();

/** API keys: created (the raw key is in this one response only), listed without secrets, revoked. */
export function keyRoutes(services: AppServices): RouteSpec[] {
  return [
    { method: 'GET', path: '/api/keys', access: 'admin', handler: (ctx) => { ctx.body = { keys: services.keys.list() }; } },
    {
      method: 'POST',
      path: '/api/keys',
      access: 'admin',
      handler: async (ctx) => {
        const { value } = await readJsonBody(ctx, 64 * 1024);
        const request = parseRequest(createKeySchema, value);
        const expiresAt = request.expires_at ? new Date(request.expires_at).toISOString() : null;
        if (expiresAt && Date.parse(expiresAt) <= Date.now()) throw inferboxError('IBX_ERR_INVALID_REQUEST', 'expires_at: must be in the future');
        const { row, key } = services.keys.createApiKey({ name: request.name, scopes: request.scopes, expiresAt });
        auditAction(services, ctx, 'key.create', row.id, { name: row.name, scopes: row.scopes, expires_at: row.expires_at });
        const { key_hash: _hash, ...visible } = row;
        ctx.status = 201;
        ctx.body = { ...visible, key };
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
