import { credentials, loadPackageDefinition, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { runClosedLoop, type LoadResult } from './loadClient.js';

const PROTO = new URL('../proto/grpc_predict_v2.proto', import.meta.url).pathname;

export interface GrpcLoadSpec {
  /** host:port of the appliance's gRPC service. */
  target: string;
  key: string;
  /** A ModelInferRequest (raw_input_contents), built once and sent as is. */
  request: object;
  concurrency: number;
  seconds: number;
}

/**
 * The gRPC counterpart of runLoad: ModelInfer over one channel (one HTTP/2 connection, as a Triton
 * client holds it), `concurrency` calls in flight, built from the shipped .proto.
 */
export async function runGrpcLoad(spec: GrpcLoadSpec): Promise<LoadResult> {
  const definition = loadSync(PROTO, { keepCase: true, longs: String, defaults: true, oneofs: true });
  const Service = (loadPackageDefinition(definition).inference as unknown as { GRPCInferenceService: new (target: string, creds: ReturnType<typeof credentials.createInsecure>, options: object) => Client }).GRPCInferenceService;
  const client = new Service(spec.target, credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 }) as Client & { ModelInfer(request: object, metadata: Metadata, callback: (error: ServiceError | null) => void): void };
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${spec.key}`);
  const once = () => new Promise<boolean>((resolve) => client.ModelInfer(spec.request, metadata, (error) => resolve(error === null)));
  try {
    return await runClosedLoop(once, spec.concurrency, spec.seconds);
  } finally {
    client.close();
  }
}
