import { z } from 'zod';
import { inferboxError } from '../../common/errors.js';
import { parseRequest } from '../../common/parseRequest.js';
import type { Prediction } from '../../predict/decidePrediction.js';
import { encodePredictInput } from '../../predict/encodePredictInput.js';
import type { CardPlan } from '../../predict/planCard.js';
import { predictionsFromOutputs } from '../../predict/predictionsFromOutputs.js';
import type { PredictInput } from '../../predict/PredictInput.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { readJsonBody, readRawBody } from '../readBody.js';
import { readMultipartForm } from '../readMultipartForm.js';
import type { RouteSpec } from '../routeTable.js';
import { recordRateLimited, servedInference, type InferenceExchange, type OipRequest } from '../servedInference.js';

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];

const rowsBodySchema = z
  .object({
    rows: z.array(z.unknown()).min(1),
    /** Read by experiment targeting (`param.<name>`), as an OIP request's parameters are. */
    parameters: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** The answer a business app reads. */
interface PredictResponse {
  predictions: Prediction[];
  model: string;
  version: string;
  precision: 'fp32' | 'int8';
  /** `<experiment>/<variant>` when an A/B experiment chose the version, else null. */
  variant: string | null;
  /** For POST /api/feedback, when an experiment routed the request. */
  request_id?: string;
}

/**
 * Named-feature predictions for business apps (issue 11): rows of feature values, a form, or an
 * image, turned into tensors by the model's card and served through the same path as OIP v2
 * (keys, experiments, batching, cache, precision, logs).
 */
export function predictRoutes(services: AppServices): RouteSpec[] {
  const readInput = async (ctx: AppContext): Promise<{ body: PredictInput; bytes: number; parameters: Record<string, unknown> }> => {
    const limit = services.settings.current.predict_max_body_bytes;
    const type = ctx.request.type;
    if (type === 'multipart/form-data') {
      const { form, bytes } = await readMultipartForm(ctx, limit);
      return { body: { kind: 'form', ...form }, bytes, parameters: {} };
    }
    if (IMAGE_TYPES.includes(type)) {
      const bytes = await readRawBody(ctx, limit);
      return { body: { kind: 'image', bytes }, bytes: bytes.length, parameters: {} };
    }
    if (type !== 'application/json' && type !== '') throw inferboxError('IBX_ERR_UNSUPPORTED_MEDIA_TYPE', type, `application/json ({"rows": [...]}), multipart/form-data or ${IMAGE_TYPES.join(', ')}`);
    const { value, bytes } = await readJsonBody(ctx, limit);
    const body = parseRequest(rowsBodySchema, value);
    const maxRows = services.settings.current.predict_max_rows;
    if (body.rows.length > maxRows) throw inferboxError('IBX_ERR_PREDICT_TOO_MANY_ROWS', body.rows.length, maxRows);
    return { body: { kind: 'rows', rows: body.rows }, bytes, parameters: body.parameters ?? {} };
  };

  const exchange: InferenceExchange<PredictInput, OipRequest & { plan: CardPlan }> = {
    read: readInput,
    request: async (served, input) => {
      const plan = services.cards.planFor(served);
      return { ...(await encodePredictInput(plan, input, services.settings.current.predict_max_image_pixels)), plan };
    },
    respond: (ctx, { served, request, outcome, assignment }) => {
      const response: PredictResponse = {
        predictions: predictionsFromOutputs(request.plan, outcome.response.outputs, served.name, served.version),
        model: served.name,
        version: served.version,
        precision: outcome.response.parameters.precision,
        variant: assignment ? `${assignment.experimentId}/${assignment.variant}` : null,
        ...(assignment ? { request_id: ctx.state.requestId } : {}),
      };
      const json = Buffer.from(JSON.stringify(response));
      ctx.type = 'application/json';
      ctx.body = json;
      return json;
    },
    // Image bytes stay out of the log (their size is enough to tell what was sent).
    logged: (input) => (input.kind === 'rows' ? { rows: input.rows } : input.kind === 'image' ? { image_bytes: input.bytes.length } : { fields: input.fields, files: Object.fromEntries(Object.entries(input.files).map(([k, v]) => [k, `${v.length} bytes`])) }),
  };
  const predict = servedInference(services, exchange);

  return [
    { method: 'POST', path: '/api/predict/:model', access: 'infer', handler: predict, onRateLimited: recordRateLimited(services) },
    { method: 'POST', path: '/api/predict/:model/versions/:version', access: 'infer', handler: predict, onRateLimited: recordRateLimited(services) },
  ];
}
