import { credentials, loadPackageDefinition, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { runClosedLoop, type LoadResult } from './loadClient.js';

const PROTO = new URL('../proto/grpc_predict_v2.proto', import.meta.url).pathname;
/** The server's own loader options (server/grpc/loadInferenceService.ts), so messages encode and decode alike. */
const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

/**
 * Which client drives the gRPC rows. `lean` (the default): unary calls straight on node:http2, see
 * runLeanGrpcLoad. `grpc-js`: @grpc/grpc-js's own client, what most Node applications use.
 */
export type GrpcClientKind = 'lean' | 'grpc-js';

export interface GrpcLoadSpec {
  /** host:port of the appliance's gRPC service (plain text, 127.0.0.1). */
  target: string;
  key: string;
  /** A ModelInferRequest (raw_input_contents), built once and sent as is. */
  request: object;
  concurrency: number;
  seconds: number;
  client: GrpcClientKind;
  /** The server's process id, for serverCpuUsPerRequest. */
  serverPid?: number;
}

/** ModelInferResponse as the loader decodes it (int64 shapes as decimal strings). */
export interface ModelInferResponse {
  model_name: string;
  outputs: { name: string; datatype: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

let modelInfer: MethodDefinition<object, object> | undefined;
/** ModelInfer's path and (de)serializers from the shipped .proto: the same functions grpc-js's client calls. */
function modelInferMethod(): MethodDefinition<object, object> {
  modelInfer ??= (loadSync(PROTO, LOADER_OPTIONS)['inference.GRPCInferenceService'] as Record<string, MethodDefinition<object, object>>).ModelInfer!;
  return modelInfer;
}

/** A gRPC message on the wire: compressed flag 0, 4-byte big-endian length, the protobuf bytes. */
function lengthPrefixed(message: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

export interface LeanAnswer {
  /** HTTP/2 :status (0 when the stream failed before a response). */
  httpStatus: number;
  /** grpc-status from the trailers, or from the headers of a trailers-only answer; null when absent. */
  grpcStatus: string | null;
  grpcMessage: string | null;
  /** The response message's protobuf bytes when exactly one whole message came back (only with `keep`). */
  message: Buffer | null;
  /** Exactly one whole length-prefixed message came back. */
  hasMessage: boolean;
}

/**
 * One unary call on an open session: one stream, the request already framed, the answer read as
 * raw bytes. `keep` keeps the response bytes (to decode them); the load loop only checks that one
 * whole message came back.
 */
function leanCall(session: ClientHttp2Session, headers: OutgoingHttpHeaders, frame: Buffer, keep: boolean): Promise<LeanAnswer> {
  return new Promise((resolve) => {
    const stream = session.request(headers);
    let httpStatus = 0;
    let grpcStatus: string | null = null;
    let grpcMessage: string | null = null;
    let received = 0;
    let declared = -1;
    const chunks: Buffer[] = [];
    const readStatus = (fields: IncomingHttpHeaders) => {
      if (fields['grpc-status'] !== undefined) grpcStatus = String(fields['grpc-status']);
      if (fields['grpc-message'] !== undefined) grpcMessage = decodeURIComponent(String(fields['grpc-message']));
    };
    stream.on('response', (fields) => {
      httpStatus = Number(fields[':status']);
      readStatus(fields); // a trailers-only answer (an error) carries its status here
    });
    stream.on('trailers', readStatus);
    stream.on('data', (chunk: Buffer) => {
      if (received === 0 && chunk.length >= 5) declared = chunk.readUInt32BE(1);
      received += chunk.length;
      if (keep) chunks.push(chunk);
    });
    stream.on('error', () => undefined); // 'close' follows and resolves; httpStatus or grpcStatus say what failed
    stream.on('close', () => {
      const hasMessage = declared >= 0 && received === 5 + declared;
      resolve({ httpStatus, grpcStatus, grpcMessage, hasMessage, message: keep && hasMessage ? Buffer.concat(chunks).subarray(5) : null });
    });
    stream.end(frame);
  });
}

/** An HTTP/2 session to `target` and the fixed request headers of ModelInfer with this key. */
function openLean(target: string, key: string): { session: ClientHttp2Session; headers: OutgoingHttpHeaders } {
  const session = connect(`http://${target}`);
  session.on('error', () => undefined); // every open stream fails with it and counts as an error
  const headers = {
    ':method': 'POST',
    ':path': modelInferMethod().path,
    'content-type': 'application/grpc',
    te: 'trailers',
    authorization: `Bearer ${key}`,
  };
  return { session, headers };
}

/** One ModelInfer with the lean client, the answer decoded: to check it before it measures anything. */
export async function leanModelInfer(target: string, key: string, request: object): Promise<LeanAnswer & { response: ModelInferResponse | null }> {
  const method = modelInferMethod();
  const { session, headers } = openLean(target, key);
  try {
    const answer = await leanCall(session, headers, lengthPrefixed(method.requestSerialize(request)), true);
    return { ...answer, response: answer.message ? (method.responseDeserialize(answer.message) as ModelInferResponse) : null };
  } finally {
    session.close();
  }
}

/**
 * Why not grpc-js here: its client costs 2.2-3.2× the CPU per call of this one, and 3-7× that of the
 * node:http REST client (client_cpu_us, `BENCH_GRPC_CLIENT=both npm run bench`, 2026-12, shared
 * 2-core machine: mlp c=32 283 µs against 126 µs here and 89-109 µs for node:http; c=1 929 against
 * 399 and 121-153; ocr-cls c=32 1300 against 412 and 177 for binary REST), and it runs on the same
 * two cores as the server, so gRPC rows measured the client as much as the appliance. This one
 * still costs more than node:http (HTTP/2 stream bookkeeping per call; the 110 KB ocr-cls request
 * also waits on WINDOW_UPDATEs at the default 64 KiB window). It does the minimum a unary call is: one HTTP/2 session (one connection, as a grpc-js channel holds it), one stream per call
 * with content-type application/grpc and te: trailers, the request protobuf-encoded once (with
 * the loader's requestSerialize, as grpc-js does) and length-prefixed once. A success is HTTP 200,
 * grpc-status 0 in the trailers and one whole response message.
 */
async function runLeanGrpcLoad(spec: GrpcLoadSpec): Promise<LoadResult> {
  const frame = lengthPrefixed(modelInferMethod().requestSerialize(spec.request));
  const { session, headers } = openLean(spec.target, spec.key);
  const once = () => leanCall(session, headers, frame, false).then((a) => a.httpStatus === 200 && a.grpcStatus === '0' && a.hasMessage);
  try {
    return await runClosedLoop(once, spec.concurrency, spec.seconds, spec.serverPid);
  } finally {
    session.close();
  }
}

/**
 * ModelInfer with grpc-js's client over one channel (one HTTP/2 connection, as a Triton client
 * holds it), built from the shipped .proto.
 */
async function runGrpcJsLoad(spec: GrpcLoadSpec): Promise<LoadResult> {
  const definition = loadSync(PROTO, LOADER_OPTIONS);
  const Service = (loadPackageDefinition(definition).inference as unknown as { GRPCInferenceService: new (target: string, creds: ReturnType<typeof credentials.createInsecure>, options: object) => Client }).GRPCInferenceService;
  const client = new Service(spec.target, credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 }) as Client & { ModelInfer(request: object, metadata: Metadata, callback: (error: ServiceError | null) => void): void };
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${spec.key}`);
  const once = () => new Promise<boolean>((resolve) => client.ModelInfer(spec.request, metadata, (error) => resolve(error === null)));
  try {
    return await runClosedLoop(once, spec.concurrency, spec.seconds, spec.serverPid);
  } finally {
    client.close();
  }
}

/** The gRPC counterpart of runLoad: ModelInfer, `concurrency` calls in flight on one connection. */
export function runGrpcLoad(spec: GrpcLoadSpec): Promise<LoadResult> {
  return spec.client === 'grpc-js' ? runGrpcJsLoad(spec) : runLeanGrpcLoad(spec);
}
