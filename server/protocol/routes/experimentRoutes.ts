import { z } from 'zod';
import { parseRequest } from '../../common/parseRequest.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import { readJsonBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';

const BODY_LIMIT = 256 * 1024;
const listQuery = z.object({ model: z.string().min(1).max(128).optional() }).strict();

/** A/B experiments (admin) and business feedback (`infer`, `feedback`, or `infer:<model>` keys for that model). */
export function experimentRoutes(services: AppServices): RouteSpec[] {
  const experiments = services.experiments;
  const id = (ctx: AppContext) => ctx.params.id!;
  const body = async (ctx: AppContext) => (await readJsonBody(ctx.req, BODY_LIMIT)).value;

  const lifecycle = (['start', 'pause', 'resume', 'stop'] as const).map((action): RouteSpec => ({
    method: 'POST',
    path: `/api/experiments/:id/${action}`,
    access: 'admin',
    handler: (ctx) => {
      ctx.body = experiments.transition(id(ctx), action);
      auditAction(services, ctx, `experiment.${action}`, id(ctx));
    },
  }));

  return [
    {
      method: 'GET',
      path: '/api/experiments',
      access: 'admin',
      handler: (ctx) => { ctx.body = { experiments: experiments.list(parseRequest(listQuery, ctx.query).model) }; },
    },
    {
      method: 'POST',
      path: '/api/experiments',
      access: 'admin',
      handler: async (ctx) => {
        const created = experiments.create(await body(ctx));
        auditAction(services, ctx, 'experiment.create', created.id, { model: created.model, name: created.name });
        ctx.status = 201;
        ctx.set('Location', `/api/experiments/${created.id}`);
        ctx.body = created;
      },
    },
    { method: 'GET', path: '/api/experiments/:id', access: 'admin', handler: (ctx) => { ctx.body = experiments.get(id(ctx)); } },
    {
      method: 'PUT',
      path: '/api/experiments/:id',
      access: 'admin',
      handler: async (ctx) => {
        ctx.body = experiments.update(id(ctx), await body(ctx));
        auditAction(services, ctx, 'experiment.update', id(ctx));
      },
    },
    {
      method: 'DELETE',
      path: '/api/experiments/:id',
      access: 'admin',
      handler: (ctx) => {
        experiments.delete(id(ctx));
        auditAction(services, ctx, 'experiment.delete', id(ctx));
        ctx.body = { id: id(ctx), deleted: true };
      },
    },
    ...lifecycle,
    {
      method: 'PUT',
      path: '/api/experiments/:id/flag',
      access: 'admin',
      handler: async (ctx) => {
        const { enabled } = parseRequest(z.object({ enabled: z.boolean() }).strict(), await body(ctx));
        ctx.body = experiments.setEnabled(id(ctx), enabled);
        auditAction(services, ctx, 'experiment.flag', id(ctx), { enabled });
      },
    },
    {
      method: 'POST',
      path: '/api/experiments/:id/promote',
      access: 'admin',
      handler: async (ctx) => {
        const { variant } = parseRequest(z.object({ variant: z.string().min(1).max(64) }).strict(), await body(ctx));
        ctx.body = await experiments.promote(id(ctx), variant);
        auditAction(services, ctx, 'experiment.promote', id(ctx), { variant });
      },
    },
    { method: 'GET', path: '/api/experiments/:id/results', access: 'admin', handler: (ctx) => { ctx.body = experiments.results(id(ctx)); } },
    {
      method: 'POST',
      path: '/api/feedback',
      access: 'feedback',
      handler: async (ctx) => {
        const scopes = ctx.state.principal?.scopes ?? [];
        const everyModel = scopes.some((s) => s === 'admin' || s === 'infer' || s === 'feedback');
        const mayReport = (model: string) => everyModel || scopes.includes(`infer:${model}`);
        ctx.body = experiments.feedback((await readJsonBody(ctx.req, 16 * 1024)).value, mayReport);
      },
    },
  ];
}
