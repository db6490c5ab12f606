import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * Loads `inference.GRPCInferenceService` from the .proto file shipped with the package. Field names
 * stay as written (snake_case, as every OIP client sends them); 64-bit integers come as decimal
 * strings, never rounded through a double; defaults are filled in, so absent repeated fields are [].
 */
export function loadInferenceService(protoPath: string): ServiceDefinition {
  const definition = loadSync(protoPath, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  return definition['inference.GRPCInferenceService'] as unknown as ServiceDefinition;
}
