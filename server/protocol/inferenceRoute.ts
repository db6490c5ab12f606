import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Principal } from '../auth/ApiKeyService.js';
import { authorizeCaller } from '../auth/authorizeCaller.js';
import type { CallerAccess } from '../auth/authenticateCaller.js';
import { bearerTokenOf } from '../auth/bearerTokenOf.js';
import type { StageTiming } from '../common/StageTiming.js';
import type { DecodedRequest, InferenceCodec, InferencePipeline, InferenceResult, ReadBody } from '../serving/InferencePipeline.js';
import { errorAnswer } from './errorAnswer.js';
import { securityHeaderPairs } from './middleware/securityHeaders.js';

/** One HTTP request to an inference route, as the dispatcher (or Koa, see routeTable) hands it over. */
export interface HttpExchange {
  req: IncomingMessage;
  res: ServerResponse;
  /** The route's path parameters: `model`, and `version` on the versioned routes. */
  params: Record<string, string | undefined>;
  requestId: string;
  /** The route pattern in OpenAPI's {param} form (low cardinality, OpenTelemetry's `http.route`). */
  route: string;
}

/** A REST reply: the body and its content type, with headers of its own (the binary extension's header length). */
export interface HttpReply {
  type: string;
  body: Buffer;
  headers?: Record<string, string>;
}

/** What an inference route does with HTTP: how the body is read; the codec does the rest. */
export interface HttpInferenceCodec<Body, Request extends DecodedRequest> extends InferenceCodec<Body, Request, HttpReply> {
  /** The routes' protocol, as the request counter labels it. */
  protocol: 'rest' | 'predict';
  read(exchange: HttpExchange): Promise<ReadBody<Body>>;
}

/** What the inference routes need from the composition root. */
export interface InferenceRouteServices extends CallerAccess {
  pipeline: InferencePipeline;
  logger: Logger;
}

/** An inference route's HTTP handler: it answers every request itself, errors included. */
export type InferenceHandler = (exchange: HttpExchange) => Promise<void>;

const ms = (value: number) => value.toFixed(3);

/** The request's stages as a Server-Timing header (W3C), which browsers' dev tools and load tools show. */
function serverTiming(t: StageTiming, cache: string): string {
  return `decode;dur=${ms(t.decodeMs)}, queue;dur=${ms(t.queueMs)}, batch;dur=${ms(t.batchMs)};desc="rows=${t.batchRows}", infer;dur=${ms(t.inferMs)}, serialize;dur=${ms(t.serializeMs)}, cache;desc="${cache}"`;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The one place an inference answer is written: the security headers (precomputed), the request
 * id, no-store under /api/ (as the Koa stack does for every admin answer), then the answer's own,
 * in one `writeHead` (through Koa, it adds them to what Koa's middleware set, CORS's included).
 */
function send(exchange: HttpExchange, status: number, headers: OutgoingHttpHeaders, body: Buffer): void {
  const { res, req } = exchange;
  const pairs: (string | number | readonly string[])[] = [...securityHeaderPairs((req.socket as TLSSocket).encrypted === true), 'X-Request-Id', exchange.requestId];
  if (exchange.route.startsWith('/api/')) pairs.push('Cache-Control', 'no-store');
  for (const name in headers) pairs.push(name, headers[name]!);
  pairs.push('Content-Length', body.length);
  res.writeHead(status, pairs as string[]);
  res.end(body);
}

/** An error in the OIP shape (`errorAnswer`, as the Koa routes answer it), with the headers the request already has. */
function sendError(exchange: HttpExchange, caught: unknown, headers: OutgoingHttpHeaders, logger: Logger): void {
  const answer = errorAnswer(caught, `complete ${exchange.req.method} ${exchange.route}`);
  if (answer.log === 'disk full') logger.warn({ err: caught, requestId: exchange.requestId }, 'disk full');
  if (answer.log === 'bug') logger.error({ err: caught, requestId: exchange.requestId, method: exchange.req.method, path: exchange.route }, 'unexpected error');
  Object.assign(headers, answer.headers);
  headers['Content-Type'] = JSON_TYPE;
  send(exchange, answer.status, headers, Buffer.from(JSON.stringify(answer.body)));
}

/** The trace context and the experiment's choice go back on answers and errors alike; the stages only with an answer. */
function resultHeaders(result: InferenceResult<HttpReply>): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { traceparent: result.trace.traceparent };
  if (result.trace.tracestate) headers.tracestate = result.trace.tracestate;
  if (result.variant) headers['Inferbox-Variant'] = result.variant;
  if (result.timing) headers['Server-Timing'] = serverTiming(result.timing, result.cache ?? 'off');
  return headers;
}

/**
 * An inference route over node:http: the key is checked against the route's rule (`infer` or
 * `infer:<model>`; a refusal by the key's rate limit is logged like every inference request), the
 * pipeline serves the request, and the answer is written with its headers; an experiment's shadow
 * copy starts once the answer has gone out.
 */
export function inferenceHandler<Body, Request extends DecodedRequest>(services: InferenceRouteServices, codec: HttpInferenceCodec<Body, Request>): InferenceHandler {
  const { logger } = services;
  const handle = serve(services, codec);
  // The pipeline never throws and errors are answered above: what arrives here is a bug in writing
  // the answer itself (the connection is closed rather than left hanging).
  return (exchange) =>
    handle(exchange).catch((error: unknown) => {
      logger.error({ err: error, requestId: exchange.requestId }, 'unexpected error while answering an inference request');
      exchange.res.destroy();
    });
}

function serve<Body, Request extends DecodedRequest>(services: InferenceRouteServices, codec: HttpInferenceCodec<Body, Request>): InferenceHandler {
  const { pipeline, logger } = services;
  return async (exchange) => {
    const { req, params } = exchange;
    const model = params.model!;
    const declaredBytes = Number(req.headers['content-length']) || 0;
    let principal: Principal | null;
    try {
      principal = authorizeCaller({ token: bearerTokenOf(req.headers.authorization ?? ''), address: req.socket.remoteAddress ?? 'unknown' }, { kind: 'infer', model }, services, {
        onRateLimited: (error, who) => pipeline.recordRateLimited({ model, version: params.version, requestId: exchange.requestId, keyId: who.keyId, declaredBytes, protocol: codec.protocol }, error),
      });
    } catch (error) {
      sendError(exchange, error, {}, logger);
      req.resume(); // the body nobody reads: drained, so the connection stays usable
      return;
    }
    const answer = (result: InferenceResult<HttpReply>) => {
      const headers = resultHeaders(result);
      if (result.outcome.ok) {
        const { reply } = result.outcome;
        Object.assign(headers, reply.headers);
        headers['Content-Type'] = reply.type;
        send(exchange, 200, headers, reply.body);
      } else {
        sendError(exchange, result.outcome.error, headers, logger);
      }
    };
    const result = await pipeline.serve(
      {
        model,
        version: params.version,
        requestId: exchange.requestId,
        keyId: principal?.keyId ?? null,
        protocol: codec.protocol,
        headers: req.headers,
        span: { name: `POST ${exchange.route}`, attributes: { 'http.request.method': 'POST', 'http.route': exchange.route } },
        declaredBytes,
      },
      codec.read(exchange),
      codec,
      answer,
    );
    const { afterSent } = result;
    if (afterSent) exchange.res.once('finish', () => setImmediate(afterSent));
  };
}
