import { z } from 'zod';
import { inferboxError } from '../../common/errors.js';
import { parseRequest } from '../../common/parseRequest.js';
import type { Prediction } from '../../predict/decidePrediction.js';
import { encodePredictInput } from '../../predict/encodePredictInput.js';
import type { CardPlan } from '../../predict/planCard.js';
import { predictionsFromOutputs } from '../../predict/predictionsFromOutputs.js';
import type { PredictInput } from '../../predict/PredictInput.js';
import type { ReadBody } from '../../serving/InferencePipeline.js';
import { decodeOipRequest } from '../../serving/oipCodec.js';
import { encodeOutputTensor } from '../../serving/encodeOutputTensor.js';
import type { AppServices } from '../AppServices.js';
import { inferenceHandler, type HttpExchange, type HttpInferenceCodec } from '../inferenceRoute.js';
import { readJsonBody, readRawBody } from '../readBody.js';
import { readMultipartForm } from '../readMultipartForm.js';
import type { RouteSpec } from '../routeTable.js';

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
  const readInput = async ({ req }: HttpExchange): Promise<ReadBody<PredictInput>> => {
    const limit = services.settings.current.predict_max_body_bytes;
    // The media type without parameters (charset, boundary), as Koa's `request.type` gives it.
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'multipart/form-data') {
      const { form, bytes } = await readMultipartForm(req, limit);
      return { body: { kind: 'form', ...form }, bytes, parameters: () => ({}) };
    }
    if (IMAGE_TYPES.includes(type)) {
      const bytes = await readRawBody(req, limit);
      return { body: { kind: 'image', bytes }, bytes: bytes.length, parameters: () => ({}) };
    }
    if (type !== 'application/json' && type !== '') throw inferboxError('IBX_ERR_UNSUPPORTED_MEDIA_TYPE', type, `application/json ({"rows": [...]}), multipart/form-data or ${IMAGE_TYPES.join(', ')}`);
    const { value, bytes } = await readJsonBody(req, limit);
    const body = parseRequest(rowsBodySchema, value);
    const maxRows = services.settings.current.predict_max_rows;
    if (body.rows.length > maxRows) throw inferboxError('IBX_ERR_PREDICT_TOO_MANY_ROWS', body.rows.length, maxRows);
    const parameters = body.parameters ?? {};
    return { body: { kind: 'rows', rows: body.rows }, bytes, parameters: () => parameters };
  };

  const predict: HttpInferenceCodec<PredictInput, ReturnType<typeof decodeOipRequest> & { plan: CardPlan }> = {
    protocol: 'predict',
    read: readInput,
    decode: async (served, input) => {
      const plan = services.cards.planFor(served);
      const encoded = await encodePredictInput(plan, input, services.settings.current.predict_max_image_pixels);
      return { ...decodeOipRequest(served, encoded), plan };
    },
    encode: ({ served, request, result, assignment, requestId }) => {
      const outputs = request.outputNames.map((name) => encodeOutputTensor(name, result.outputs[name]!));
      const response: PredictResponse = {
        predictions: predictionsFromOutputs(request.plan, outputs, served.name, served.version),
        model: served.name,
        version: served.version,
        precision: served.precision,
        variant: assignment ? `${assignment.experimentId}/${assignment.variant}` : null,
        ...(assignment ? { request_id: requestId } : {}),
      };
      const json = Buffer.from(JSON.stringify(response));
      return { reply: { type: 'application/json; charset=utf-8', body: json }, bytes: json.length, json: () => json.toString('utf8') };
    },
    // Image bytes stay out of the log (their size is enough to tell what was sent).
    logged: (input) => (input.kind === 'rows' ? { rows: input.rows } : input.kind === 'image' ? { image_bytes: input.bytes.length } : { fields: input.fields, files: Object.fromEntries(Object.entries(input.files).map(([k, v]) => [k, `${v.length} bytes`])) }),
  };
  const infer = inferenceHandler(services, predict);

  return [
    { method: 'POST', path: '/api/predict/:model', access: 'infer', infer },
    { method: 'POST', path: '/api/predict/:model/versions/:version', access: 'infer', infer },
  ];
}
