import { fileURLToPath } from 'node:url';
import { credentials as grpcCredentials, loadPackageDefinition, Metadata, type ChannelCredentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** The .proto the package ships: clients are built from it, as a Triton or KServe client would be. */
export const PROTO_PATH = fileURLToPath(new URL('../../proto/grpc_predict_v2.proto', import.meta.url));

export interface GrpcAnswer<T> {
  error: ServiceError | null;
  response: T | null;
  /** Initial metadata (with an answer). */
  headers: Metadata | null;
  /** Trailers (with an error, they carry x-request-id and retry-after). */
  trailers: Metadata | null;
}

export interface InferenceClient {
  call<T = Record<string, unknown>>(method: string, request: object, options?: { key?: string | null; metadata?: Record<string, string> }): Promise<GrpcAnswer<T>>;
  close(): void;
}

/** A client of `inference.GRPCInferenceService` built from the shipped .proto; each call sends `Bearer <key>` unless key is null. */
export function inferenceClient(target: string, defaultKey: string | null, credentials: ChannelCredentials = grpcCredentials.createInsecure(), channelOptions: Record<string, string | number> = {}): InferenceClient {
  const definition = loadSync(PROTO_PATH, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const inference = loadPackageDefinition(definition).inference as unknown as { GRPCInferenceService: new (target: string, credentials: ChannelCredentials, options: object) => Client };
  const client = new inference.GRPCInferenceService(target, credentials, { 'grpc.max_receive_message_length': -1, ...channelOptions }) as Client & Record<string, (...args: unknown[]) => { on(event: string, listener: (value: Metadata) => void): void }>;
  return {
    call: (method, request, { key = defaultKey, metadata = {} } = {}) =>
      new Promise((resolve) => {
        const md = new Metadata();
        if (key !== null) md.set('authorization', `Bearer ${key}`);
        for (const [name, value] of Object.entries(metadata)) md.set(name, value);
        let headers: Metadata | null = null;
        let trailers: Metadata | null = null;
        let settled: { error: ServiceError | null; response: unknown } | null = null;
        const finish = () => { if (settled && trailers) resolve({ ...settled, headers, trailers } as GrpcAnswer<never>); };
        const call = client[method]!(request, md, { deadline: Date.now() + 30_000 }, (error: ServiceError | null, response: unknown) => {
          settled = { error, response: response ?? null };
          finish();
        });
        call.on('metadata', (value) => { headers = value; });
        call.on('status', (status) => { trailers = (status as unknown as { metadata: Metadata }).metadata; finish(); });
      }),
    close: () => client.close(),
  };
}
