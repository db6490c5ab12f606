import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * Parsed once per process (protobufjs parses the text each time): start-up parses it while the
 * model restore waits for the workers, and every bind (a retried port, a restart) reuses it.
 */
const loaded = new Map<string, ServiceDefinition>();

/**
 * Loads `inference.GRPCInferenceService` from the .proto file shipped with the package. Field names
 * stay as written (snake_case, as every OIP client sends them); 64-bit integers come as decimal
 * strings, never rounded through a double; defaults are filled in, so absent repeated fields are [].
 */
export function loadInferenceService(protoPath: string): ServiceDefinition {
  let service = loaded.get(protoPath);
  if (!service) {
    const definition = loadSync(protoPath, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    service = definition['inference.GRPCInferenceService'] as unknown as ServiceDefinition;
    loaded.set(protoPath, service);
  }
  return service;
}
