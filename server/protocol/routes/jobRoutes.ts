import { Readable } from 'node:stream';
import { z } from 'zod';
import { allows } from '../../auth/scopes.js';
import { inferboxError } from '../../common/errors.js';
import { parseRequest } from '../../common/parseRequest.js';
import type { JobOwner } from '../../jobs/JobService.js';
import type { JobSource } from '../../store/JobRepository.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { readRawBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';

/** Upload formats by Content-Type. */
const FORMATS: Record<string, JobSource> = {
  'application/json': 'json',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'text/csv': 'csv',
};

const submitQuerySchema = z.object({ model: z.string().optional(), version: z.string().optional(), kind: z.enum(['infer', 'predict']).optional() });
const listQuerySchema = z.object({
  state: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']).optional(),
  model: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
const resultsQuerySchema = z.object({ format: z.enum(['jsonl', 'csv']).default('jsonl') });

/** The authenticated key as a job owner (set by the route table's auth step). */
function ownerOf(ctx: AppContext): JobOwner {
  const principal = ctx.state.principal!;
  return { keyId: principal.keyId, name: principal.name, admin: principal.scopes.includes('admin') };
}

/**
 * Async prediction jobs. Any valid key reaches these routes; submitting needs infer rights on the
 * job's model (named in the body or query, so the route table cannot check it), and a non-admin key
 * sees, cancels and deletes only the jobs it created.
 */
export function jobRoutes(services: AppServices): RouteSpec[] {
  const id = (ctx: AppContext) => ctx.params.id!;
  return [
    {
      method: 'POST',
      path: '/api/jobs',
      access: 'key',
      handler: async (ctx) => {
        const format = FORMATS[ctx.request.type];
        if (!format) throw inferboxError('IBX_ERR_UNSUPPORTED_MEDIA_TYPE', ctx.request.type, 'application/json, application/x-ndjson, application/jsonl or text/csv');
        const query = parseRequest(submitQuerySchema, ctx.query);
        const body = await readRawBody(ctx.req, services.settings.current.job_max_body_bytes);
        const scopes = ctx.state.principal!.scopes;
        const job = await services.jobs.submit({ format, body, ...query }, ownerOf(ctx), (model) => allows(scopes, { kind: 'infer', model }));
        ctx.status = 202;
        ctx.set('Location', `/api/jobs/${job.id}`);
        ctx.body = job;
      },
    },
    {
      method: 'GET',
      path: '/api/jobs',
      access: 'key',
      handler: (ctx) => {
        const query = parseRequest(listQuerySchema, ctx.query);
        ctx.body = { ...services.jobs.list(query, ownerOf(ctx)), limit: query.limit, offset: query.offset };
      },
    },
    {
      method: 'GET',
      path: '/api/jobs/:id',
      access: 'key',
      handler: (ctx) => { ctx.body = services.jobs.get(id(ctx), ownerOf(ctx)); },
    },
    {
      method: 'GET',
      path: '/api/jobs/:id/results',
      access: 'key',
      handler: (ctx) => {
        const { format } = parseRequest(resultsQuerySchema, ctx.query);
        const lines = services.jobs.results(id(ctx), ownerOf(ctx), format);
        ctx.type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson';
        ctx.set('Content-Disposition', `attachment; filename="${id(ctx)}-results.${format}"`);
        ctx.body = Readable.from(lines);
      },
    },
    {
      method: 'POST',
      path: '/api/jobs/:id/cancel',
      access: 'key',
      handler: (ctx) => { ctx.body = services.jobs.cancel(id(ctx), ownerOf(ctx)); },
    },
    {
      method: 'DELETE',
      path: '/api/jobs/:id',
      access: 'key',
      handler: (ctx) => {
        services.jobs.delete(id(ctx), ownerOf(ctx));
        ctx.body = { id: id(ctx), deleted: true };
      },
    },
  ];
}
