import { inferboxError, isInferboxError } from '../../common/errors.js';
import { parseJsonText } from '../../common/parseJsonText.js';
import { modelMetadata } from '../../registry/modelMetadata.js';
import { modelReadiness } from '../../registry/modelReadiness.js';
import { HEADER_LENGTH_HEADER, splitBinaryBody } from '../../serving/binaryTensors.js';
import type { DecodedInferRequest } from '../../serving/decodeInferRequest.js';
import { decodeOipRequest, encodeOipResponse, requestParameters, type OipBody } from '../../serving/oipCodec.js';
import { rawBinaryBody } from '../../serving/rawBinaryBody.js';
import type { ServedVersion } from '../../serving/ServedVersion.js';
import { serverMetadata } from '../../serving/serverMetadata.js';
import { shouldDecodeOffThread } from '../../serving/shouldDecodeOffThread.js';
import type { AppContext } from '../AppContext.js';
import type { AppServices } from '../AppServices.js';
import { inferenceHandler, type HttpInferenceCodec } from '../inferenceRoute.js';
import { readRawBody } from '../readBody.js';
import type { RouteSpec } from '../routeTable.js';

const NO_BINARY = Buffer.alloc(0);

/**
 * An OIP request as REST read it: JSON, or (binary tensor extension) a JSON header and tensor
 * bytes. A small JSON part is parsed at once, as before; a large plain-JSON body stays bytes until
 * the version is known, then is decoded in one pass off the HTTP thread (JsonDecodePool) and only
 * parsed here when something needs the JSON itself (targeting on `parameters`, payload logging,
 * live samples).
 */
class RestOipBody {
  private parsed: unknown;
  private isParsed = false;

  /** `raw`: the binary extension's raw form (`Inference-Header-Content-Length: 0`), the body only the single input's bytes. */
  constructor(readonly json: Buffer, readonly binary: Buffer, readonly raw = false) {
    if (!this.offThread) this.value();
  }

  /** A plain-JSON body large enough to decode off the HTTP thread (binary-extension headers are small). */
  get offThread(): boolean {
    return this.binary.length === 0 && !this.raw && shouldDecodeOffThread(this.json.length);
  }

  /** The request's JSON; in the raw form, none until `rawRequest` made it (no `parameters` for targeting). */
  value(): unknown {
    if (!this.isParsed) [this.parsed, this.isParsed] = [this.raw ? {} : parseBody(this.json), true];
    return this.parsed;
  }

  /** The raw form as the request it stands for, made for the version that answers (its input sets the shape); payloads log it. */
  rawRequest(served: ServedVersion): OipBody {
    const body = rawBinaryBody(served, this.binary);
    [this.parsed, this.isParsed] = [body.value, true];
    return body;
  }
}

/** The body's first byte that is not JSON whitespace (undefined for an empty or blank body). */
const firstByte = (json: Buffer) => json.find((byte) => byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d);

/**
 * A body that is not JSON at all (it does not start with `{`) most often is binary tensor data
 * sent without its header: say so, rather than point at a syntax error. Only on the error path.
 */
function withMissingHeaderHint(error: unknown, first: number | undefined): unknown {
  if (!isInferboxError(error) || error.code !== 'IBX_ERR_INVALID_JSON' || first === undefined || first === 0x7b /* { */) return error;
  return inferboxError('IBX_ERR_BINARY_DATA', `the body is not JSON and came without the ${HEADER_LENGTH_HEADER} header: binary tensor data needs it (the length of the JSON header before the tensor bytes, or 0 when the body is only the single input's raw bytes)`);
}

function parseBody(json: Buffer): unknown {
  try {
    return parseJsonText(json.toString('utf8'), 'the body');
  } catch (error) {
    throw withMissingHeaderHint(error, firstByte(json));
  }
}

/** KServe Open Inference Protocol v2, REST: server and model metadata, model readiness, inference (shared with gRPC in `serving/`). */
export function oipRoutes(services: AppServices): RouteSpec[] {
  const modelMetadataRoute = (ctx: AppContext) => {
    ctx.body = modelMetadata(services.registry, ctx.params.model!, ctx.params.version);
  };

  const modelReady = (ctx: AppContext) => {
    const name = ctx.params.model!;
    const { version, ready } = modelReadiness(services.registry, name, ctx.params.version);
    ctx.status = ready ? 200 : 503;
    ctx.body = { name, ...(version ? { version } : {}), ready };
  };

  /**
   * Off the HTTP thread the body's bytes move to the decoder (transferred, not copied), unless
   * payload logging or live samples will want the JSON afterwards: then a copy goes.
   */
  const decodeOffThread = async (served: ServedVersion, body: RestOipBody): Promise<DecodedInferRequest & { jsonInputs: (() => unknown[]) | undefined }> => {
    const keepJson = services.modelSettings.effective(served.name).log_payloads || services.liveSamples.isRecording(served.name);
    const bytes = keepJson ? Buffer.from(body.json) : body.json;
    const first = firstByte(body.json); // before the bytes move to the decoder (it stops at the first byte of a JSON body)
    const decoded = await services.decodePool.decode(bytes, { name: served.name, inputs: served.inputs, outputs: served.outputs }).catch((error: unknown) => {
      throw withMissingHeaderHint(error, first);
    });
    return { ...decoded, jsonInputs: keepJson ? () => (body.value() as { inputs: unknown[] }).inputs : undefined };
  };

  /** OIP v2 JSON, or JSON + binary tensors: the body is the request itself, whatever version answers. */
  const oip: HttpInferenceCodec<RestOipBody, DecodedInferRequest & { jsonInputs: (() => unknown[]) | undefined }> = {
    protocol: 'rest',
    read: async ({ req }) => {
      const raw = await readRawBody(req, services.settings.current.max_infer_body_bytes);
      const headerLength = req.headers[HEADER_LENGTH_HEADER] as string | undefined;
      if (headerLength?.trim() === '0') {
        const body = new RestOipBody(NO_BINARY, raw, true);
        return { body, bytes: raw.length, parameters: () => ({}) };
      }
      const { json, binary } = headerLength ? splitBinaryBody(raw, headerLength) : { json: raw, binary: NO_BINARY };
      const body = new RestOipBody(json, binary);
      return { body, bytes: raw.length, parameters: () => requestParameters(body.value()) };
    },
    decode: (served, body) => {
      if (body.raw) return decodeOipRequest(served, body.rawRequest(served));
      return body.offThread ? decodeOffThread(served, body) : decodeOipRequest(served, { value: body.value(), binary: body.binary });
    },
    /** JSON, or the binary extension's JSON header + tensor bytes when outputs were asked for as binary. */
    encode: ({ served, request, result, assignment, requestId }) => {
      const { response, binary } = encodeOipResponse(served, request, result.outputs, assignment ? { variant: assignment, requestId } : null);
      const json = Buffer.from(JSON.stringify(response));
      const reply = binary.length > 0
        ? { type: 'application/octet-stream', body: Buffer.concat([json, ...binary]), headers: { 'Inference-Header-Content-Length': String(json.length) } }
        : { type: 'application/json; charset=utf-8', body: json };
      return { reply, bytes: reply.body.length, json: () => json.toString('utf8') };
    },
    logged: (body) => body.value(),
  };
  const infer = inferenceHandler(services, oip);

  return [
    {
      method: 'GET',
      path: '/v2',
      access: 'infer',
      handler: (ctx) => { ctx.body = serverMetadata(services.serverVersion); },
    },
    { method: 'GET', path: '/v2/models/:model', access: 'infer', handler: modelMetadataRoute },
    { method: 'GET', path: '/v2/models/:model/versions/:version', access: 'infer', handler: modelMetadataRoute },
    { method: 'GET', path: '/v2/models/:model/ready', access: 'infer', handler: modelReady },
    { method: 'GET', path: '/v2/models/:model/versions/:version/ready', access: 'infer', handler: modelReady },
    { method: 'POST', path: '/v2/models/:model/infer', access: 'infer', infer },
    { method: 'POST', path: '/v2/models/:model/versions/:version/infer', access: 'infer', infer },
  ];
}
