import { z } from 'zod';
import { parseRequest } from '../../common/parseRequest.js';
import type { AppServices } from '../AppServices.js';
import type { RouteSpec } from '../routeTable.js';

const paging = {
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
};
const isoTime = z.iso.datetime({ offset: true }).transform((s) => new Date(s).toISOString());

const logQuerySchema = z.object({
  model: z.string().optional(),
  version: z.string().optional(),
  key_id: z.string().optional(),
  trace_id: z.string().regex(/^[0-9a-f]{32}$/, { message: 'a trace id is 32 lowercase hex digits' }).optional(),
  status: z.union([z.enum(['success', 'error']), z.coerce.number().int().min(100).max(599)]).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  ...paging,
});

const auditQuerySchema = z.object({
  action: z.string().optional(),
  actor_id: z.string().optional(),
  since: isoTime.optional(),
  ...paging,
});

/** The request log and the audit trail, newest first, with filters and paging. */
export function logRoutes(services: AppServices): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: '/api/logs',
      access: 'admin',
      handler: (ctx) => {
        const query = parseRequest(logQuerySchema, ctx.query);
        const { rows, total } = services.store.requestLog.query(query);
        ctx.body = { logs: rows, total, limit: query.limit, offset: query.offset };
      },
    },
    {
      method: 'GET',
      path: '/api/audit',
      access: 'admin',
      handler: (ctx) => {
        const query = parseRequest(auditQuerySchema, ctx.query);
        const { entries, total } = services.store.audit.query(query);
        ctx.body = { entries, total, limit: query.limit, offset: query.offset };
      },
    },
  ];
}
