import { Metadata, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Principal } from '../auth/ApiKeyService.js';
import type { CallerAccess } from '../auth/authenticateCaller.js';
import { authorizePrincipal } from '../auth/authorizeCaller.js';
import type { AccessRule } from '../auth/scopes.js';
import { inferboxError, type InferboxError } from '../common/errors.js';
import { requestIdFrom } from '../common/requestIdFrom.js';
import type { InferenceCodec, InferencePipeline, InferenceResult } from '../serving/InferencePipeline.js';
import { decodeOipRequest, encodeOipResponse, requestParameters, type OipBody } from '../serving/oipCodec.js';
import { serverMetadata } from '../serving/serverMetadata.js';
import { modelMetadata } from '../registry/modelMetadata.js';
import { modelReadiness } from '../registry/modelReadiness.js';
import type { ModelRegistry } from '../registry/ModelRegistry.js';
import { grpcStatusOf } from './grpcStatusOf.js';
import type { ModelInferRequest, ModelRequest } from './inferenceMessages.js';
import { toModelInferResponse } from './toModelInferResponse.js';
import { toOipBody } from './toOipBody.js';

export interface GrpcInferenceDeps {
  access: CallerAccess;
  /** Who the server's interceptor authenticated a call as, by its metadata (grpcCallerAuthentication). */
  principalOf: (metadata: Metadata) => Principal | undefined;
  registry: ModelRegistry;
  pipeline: InferencePipeline;
  serverVersion: string;
  /** REST's body limit now (max_infer_body_bytes): a smaller limit applies at once; grpc-js's own cap is the limit at start. */
  maxInferBytes: () => number;
  /** Encodes a ModelInferResponse (the handler encodes it itself, to log its size and count the time). */
  encodeInferResponse: (message: unknown) => Buffer;
  /** Logs a bug (not an expected error) with its stack; the client sees only INTERNAL. */
  onBug: (error: unknown, method: string) => void;
}

/** A unary request with the size it had on the wire (see startGrpcServer's deserializer). */
export interface Sized<T> {
  message: T;
  bytes: number;
}

/** What one call carries besides its message: its id and metadata as headers. */
interface CallContext {
  requestId: string;
  /** Text metadata (lowercase names, as HTTP headers): experiments read targeting attributes and unit ids from it. */
  headers: Record<string, string>;
  /** Sent to the client: in the initial metadata with an answer, in the trailers with an error. */
  reply: Metadata;
}

function contextOf(call: ServerUnaryCall<unknown, unknown>): CallContext {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(call.metadata.getMap())) if (typeof value === 'string') headers[name] = value;
  const requestId = requestIdFrom(headers['x-request-id']);
  const reply = new Metadata();
  reply.set('x-request-id', requestId);
  return { requestId, headers, reply };
}

/** The service's full name, as gRPC spans name it (OpenTelemetry's RPC convention: `rpc.service`). */
const SERVICE = 'inference.GRPCInferenceService';

/** The RPCs anyone may call, like REST's /v2/health/*; every other one needs a key. */
const PUBLIC_RPCS = ['ServerLive', 'ServerReady'] as const;
type PublicRpc = (typeof PUBLIC_RPCS)[number];
type KeyedRpc = 'ServerMetadata' | 'ModelReady' | 'ModelMetadata' | 'ModelInfer';
const PUBLIC_PATHS: ReadonlySet<string> = new Set(PUBLIC_RPCS.map((method) => `/${SERVICE}/${method}`));

/** Whether a method of the service (its path, as grpc-js names it) needs a key: the interceptor asks before any message is read. */
export const needsKey = (path: string): boolean => !PUBLIC_PATHS.has(path);

type KeyedRule = Exclude<AccessRule, { kind: 'public' }>;
type Handle<Q, A> = (request: Q, context: CallContext, principal: Principal | null) => A | Promise<A>;
/** Hears a refusal by the key's rate limit first (ModelInfer logs it, as REST does). */
type OnRateLimited<Q> = (request: Q, context: CallContext, error: InferboxError, principal: Principal) => void;

const requireName = (name: string, field: string) => {
  if (name === '') throw inferboxError('IBX_ERR_INVALID_REQUEST', `${field} is empty: name the model`);
  return name;
};

/** The trace context and the experiment's choice: in the initial metadata with an answer, in the trailers with an error. */
function replyMetadata(reply: Metadata, result: InferenceResult<unknown>): void {
  reply.set('traceparent', result.trace.traceparent);
  if (result.trace.tracestate) reply.set('tracestate', result.trace.tracestate);
  if (result.variant) reply.set('inferbox-variant', result.variant);
}

/**
 * The six RPCs of `inference.GRPCInferenceService` over the same services as the REST routes:
 * the same access rules (ServerLive and ServerReady public like /v2/health/*, the rest `infer` or
 * `infer:<model>`), failed-auth throttling per peer address, per-key rate limits, and inference
 * through the shared `InferenceEndpoint` (experiments, batching, request log, metrics, payloads).
 * The key itself was checked from the metadata by the server's interceptor (a call without a valid
 * one never gets here); the handler checks what it may do, which needs the message (its model).
 */
export function grpcInferenceHandlers(deps: GrpcInferenceDeps): UntypedServiceImplementation {
  /** Authorizes the key (no rule: a public RPC), runs the handler, answers or maps the error; the request id goes back either way. */
  const unary = <Q, A>(method: string, rule: ((request: Q) => KeyedRule) | null, handle: Handle<Q, A>, onRateLimited?: OnRateLimited<Q>) =>
    (call: ServerUnaryCall<Q, A>, callback: sendUnaryData<A>) => {
      const context = contextOf(call as ServerUnaryCall<unknown, unknown>);
      const request = call.request;
      void (async () => {
        try {
          let principal: Principal | null = null;
          if (rule) {
            const authenticated = deps.principalOf(call.metadata);
            if (!authenticated) throw new Error(`${method} needs a key but reached its handler without the interceptor's check`);
            principal = authorizePrincipal(authenticated, rule(request), deps.access, onRateLimited && ((error, who) => onRateLimited(request, context, error, who)));
          }
          const answer = await handle(request, context, principal);
          call.sendMetadata(context.reply);
          callback(null, answer);
        } catch (error) {
          callback(grpcStatusOf(error, context.reply, (bug) => deps.onBug(bug, method)));
        }
      })();
    };
  // Typed by name: only an RPC in PUBLIC_RPCS (what the interceptor lets through without a key) can be built without a rule.
  const open = <A>(method: PublicRpc, handle: () => A) => unary(method, null, handle);
  const keyed = <Q, A>(method: KeyedRpc, rule: (request: Q) => KeyedRule, handle: Handle<Q, A>, onRateLimited?: OnRateLimited<Q>) => unary(method, rule, handle, onRateLimited);

  const inferRule = (model: string): KeyedRule => ({ kind: 'infer', model });

  /** The message as an OIP body (a refusal here is recorded like every other: the pipeline awaits it). */
  const readInferRequest = async (message: ModelInferRequest, bytes: number) => {
    requireName(message.model_name, 'model_name');
    const limit = deps.maxInferBytes();
    if (bytes > limit) throw inferboxError('IBX_ERR_BODY_TOO_LARGE', limit);
    const body = toOipBody(message);
    return { body, bytes, parameters: () => requestParameters(body.value) };
  };

  /** Every output goes back in `raw_output_contents` (toOipBody asks for all of them as binary). */
  const inferCodec: InferenceCodec<OipBody, ReturnType<typeof decodeOipRequest>, Buffer> = {
    decode: decodeOipRequest,
    encode: ({ served, request, result, assignment, requestId }) => {
      const answer = encodeOipResponse(served, request, result.outputs, assignment ? { variant: assignment, requestId } : null);
      const encoded = deps.encodeInferResponse(toModelInferResponse(answer));
      return { reply: encoded, bytes: encoded.length, json: () => JSON.stringify(answer.response) };
    },
    logged: (body) => body.value,
  };

  return {
    ServerLive: open('ServerLive', () => ({ live: true })),
    ServerReady: open('ServerReady', () => ({ ready: deps.registry.isReady() })),
    ServerMetadata: keyed('ServerMetadata', () => ({ kind: 'infer' }), () => serverMetadata(deps.serverVersion)),
    ModelReady: keyed('ModelReady', (r: ModelRequest) => inferRule(r.name), (r: ModelRequest) => ({ ready: modelReadiness(deps.registry, requireName(r.name, 'name'), r.version || undefined).ready })),
    ModelMetadata: keyed('ModelMetadata', (r: ModelRequest) => inferRule(r.name), (r: ModelRequest) => modelMetadata(deps.registry, requireName(r.name, 'name'), r.version || undefined)),
    ModelInfer: keyed(
      'ModelInfer',
      (r: Sized<ModelInferRequest>) => inferRule(r.message.model_name),
      async ({ message, bytes }: Sized<ModelInferRequest>, context, principal) => {
        const result = await deps.pipeline.serve(
          {
            model: message.model_name,
            version: message.model_version || undefined,
            requestId: context.requestId,
            keyId: principal?.keyId ?? null,
            protocol: 'grpc',
            headers: context.headers,
            span: { name: `${SERVICE}/ModelInfer`, attributes: { 'rpc.system': 'grpc', 'rpc.service': SERVICE, 'rpc.method': 'ModelInfer' } },
            declaredBytes: bytes,
          },
          readInferRequest(message, bytes),
          inferCodec,
        );
        replyMetadata(context.reply, result);
        if (!result.outcome.ok) throw result.outcome.error;
        if (result.afterSent) setImmediate(result.afterSent);
        return result.outcome.reply;
      },
      ({ message, bytes }, context, error, principal) =>
        deps.pipeline.recordRateLimited({ model: message.model_name, version: message.model_version || undefined, requestId: context.requestId, keyId: principal.keyId, declaredBytes: bytes, protocol: 'grpc' }, error),
    ),
  };
}
