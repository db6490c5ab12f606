import { Readable } from 'node:stream';
import { z } from 'zod';
import { parseRequest } from '../../common/parseRequest.js';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import type { RouteSpec } from '../routeTable.js';

const isoTime = z.iso.datetime({ offset: true }).transform((s) => new Date(s).toISOString());

/** model, a time range [since, until) and a request id; each given one must match. */
const filterShape = {
  model: z.string().min(1).max(200).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  request_id: z.string().min(1).max(200).optional(),
};
const rangeInOrder = (f: { since?: string | undefined; until?: string | undefined }) => f.since === undefined || f.until === undefined || f.since < f.until;
const RANGE_MESSAGE = { message: 'since must be before until', path: ['since'] };

const listSchema = z
  .object({ ...filterShape, limit: z.coerce.number().int().min(1).max(1000).default(100), offset: z.coerce.number().int().min(0).default(0) })
  .strict()
  .refine(rangeInOrder, RANGE_MESSAGE);
const exportSchema = z.object(filterShape).strict().refine(rangeInOrder, RANGE_MESSAGE);
// An erasure names what it erases: an empty filter (everything) is refused as a likely mistake.
const eraseSchema = exportSchema.refine((f) => Object.values(f).some((v) => v !== undefined), {
  message: 'name what to erase: model, since/until, request_id, or several of them',
});

/**
 * Logged payloads (admin only): a listing without the content, the content as a JSON-lines
 * download, and erasure. Reading the content (export) and erasing are audited with the filter and
 * the number of rows.
 */
export function payloadRoutes(services: AppServices): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: '/api/payloads',
      access: 'admin',
      handler: (ctx) => {
        const { limit, offset, ...filter } = parseRequest(listSchema, ctx.query);
        const { rows, total } = services.payloads.list(filter, limit, offset);
        ctx.body = { payloads: rows, total, limit, offset };
      },
    },
    {
      method: 'GET',
      path: '/api/payloads/export',
      access: 'admin',
      handler: (ctx) => {
        const filter = parseRequest(exportSchema, ctx.query);
        const { count, lines } = services.payloads.export(filter);
        auditAction(services, ctx, 'payloads.export', filter.model ?? null, { filter, rows: count });
        ctx.type = 'application/x-ndjson';
        ctx.set('Content-Disposition', `attachment; filename="payloads${filter.model ? `-${filter.model.replace(/[^\w.-]/g, '_')}` : ''}.jsonl"`);
        ctx.body = Readable.from(lines);
      },
    },
    {
      method: 'DELETE',
      path: '/api/payloads',
      access: 'admin',
      handler: async (ctx) => {
        const filter = parseRequest(eraseSchema, ctx.query);
        const erased = await services.payloads.erase(filter);
        auditAction(services, ctx, 'payloads.delete', filter.model ?? null, { filter, ...erased });
        ctx.body = { deleted: erased };
      },
    },
  ];
}
