import { z } from 'zod';
import { assertModelName, assertVersion } from '../../common/names.js';
import { parseRequest } from '../../common/parseRequest.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { auditAction } from '../auditAction.js';
import { readJsonBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';

/** A card is small JSON; a category with thousands of values still fits. */
const CARD_BODY_LIMIT = 1024 * 1024;
const versionQuerySchema = z.object({ version: z.string().optional() });

/**
 * Model cards: the model's (`/api/models/{m}/card`, checked against every version without its
 * own) and a version's own (`…/versions/{v}/card`); a starting card inferred from the ONNX file;
 * and, for business apps with an infer key, the card that applies to the version serving now.
 */
export function cardRoutes(services: AppServices): RouteSpec[] {
  const { cards } = services;
  const model = (ctx: AppContext) => assertModelName(ctx.params.model!);
  const version = (ctx: AppContext) => (ctx.params.version === undefined ? undefined : assertVersion(ctx.params.version));
  const queryVersion = (ctx: AppContext) => {
    const { version: v } = parseRequest(versionQuerySchema, ctx.query);
    return v === undefined ? undefined : assertVersion(v);
  };
  const target = (ctx: AppContext) => (version(ctx) === undefined ? model(ctx) : `${model(ctx)}/${version(ctx)}`);

  const save = async (ctx: AppContext) => {
    const body = (await readJsonBody(ctx.req, CARD_BODY_LIMIT)).value;
    ctx.body = cards.save(model(ctx), version(ctx), body, ctx.state.principal?.name ?? null);
    auditAction(services, ctx, 'model.card', target(ctx));
  };
  const remove = (ctx: AppContext) => {
    cards.delete(model(ctx), version(ctx));
    auditAction(services, ctx, 'model.card_delete', target(ctx));
    ctx.body = { deleted: true };
  };

  return [
    { method: 'GET', path: '/api/models/:model/card', access: 'admin', handler: (ctx) => { ctx.body = cards.get(model(ctx), queryVersion(ctx)); } },
    { method: 'GET', path: '/api/models/:model/card/inferred', access: 'admin', handler: async (ctx) => { ctx.body = await cards.infer(model(ctx), queryVersion(ctx)); } },
    { method: 'PUT', path: '/api/models/:model/card', access: 'admin', handler: save },
    { method: 'DELETE', path: '/api/models/:model/card', access: 'admin', handler: remove },
    { method: 'GET', path: '/api/models/:model/versions/:version/card', access: 'admin', handler: (ctx) => { ctx.body = cards.get(model(ctx), version(ctx), true); } },
    { method: 'PUT', path: '/api/models/:model/versions/:version/card', access: 'admin', handler: save },
    { method: 'DELETE', path: '/api/models/:model/versions/:version/card', access: 'admin', handler: remove },
    // What a business developer needs to call /api/predict: the features and labels, nothing to change.
    { method: 'GET', path: '/api/predict/:model/card', access: 'infer', handler: (ctx) => { ctx.body = cards.get(model(ctx), undefined); } },
  ];
}
