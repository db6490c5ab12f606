import { z } from 'zod';
import { parseRequest } from '../../common/parseRequest.js';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/webhookEventTypes.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import { readJsonBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';

const BODY_LIMIT = 16 * 1024;
const logQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }).strict();

/** Webhook endpoints (admin): configure, test-send, read the delivery log. Secrets are shown once, at creation. */
export function webhookRoutes(services: AppServices): RouteSpec[] {
  const id = (ctx: AppContext) => ctx.params.id!;
  const body = async (ctx: AppContext) => (await readJsonBody(ctx.req, BODY_LIMIT)).value;
  return [
    { method: 'GET', path: '/api/webhooks', access: 'admin', handler: (ctx) => { ctx.body = { webhooks: services.webhooks.list(), event_types: WEBHOOK_EVENT_TYPES }; } },
    {
      method: 'POST',
      path: '/api/webhooks',
      access: 'admin',
      handler: async (ctx) => {
        const created = services.webhooks.create(await body(ctx));
        auditAction(services, ctx, 'webhook.create', created.id, { url: created.url, events: created.events, enabled: created.enabled });
        ctx.status = 201;
        ctx.set('Location', `/api/webhooks/${created.id}`);
        ctx.body = created;
      },
    },
    {
      method: 'PUT',
      path: '/api/webhooks/:id',
      access: 'admin',
      handler: async (ctx) => {
        const change = await body(ctx);
        ctx.body = services.webhooks.update(id(ctx), change);
        auditAction(services, ctx, 'webhook.update', id(ctx), { changes: change });
      },
    },
    {
      method: 'DELETE',
      path: '/api/webhooks/:id',
      access: 'admin',
      handler: (ctx) => {
        services.webhooks.delete(id(ctx));
        auditAction(services, ctx, 'webhook.delete', id(ctx));
        ctx.body = { deleted: true };
      },
    },
    {
      method: 'POST',
      path: '/api/webhooks/:id/test',
      access: 'admin',
      handler: (ctx) => {
        ctx.body = services.webhooks.test(id(ctx));
        auditAction(services, ctx, 'webhook.test', id(ctx));
        ctx.status = 202;
      },
    },
    {
      method: 'GET',
      path: '/api/webhooks/:id/deliveries',
      access: 'admin',
      handler: (ctx) => { ctx.body = { deliveries: services.webhooks.deliveries(id(ctx), parseRequest(logQuery, ctx.query).limit) }; },
    },
  ];
}
