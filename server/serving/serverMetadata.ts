/**
 * The Triton protocol extensions the server implements, named as Triton's Server Metadata names
 * them (its core lists classification, sequence, model_repository, schedule_policy,
 * model_configuration, system_shared_memory, cuda_shared_memory, binary_tensor_data, parameters,
 * statistics, trace and logging). Only the binary tensor data extension is built here (REST,
 * the raw form included); the others are not, so clients must not be told they are.
 */
export const SERVER_EXTENSIONS: readonly string[] = ['binary_tensor_data'];

/** OIP server metadata (`$metadata_server_response`), the same over REST (`GET /v2`) and gRPC (ServerMetadata). */
export function serverMetadata(version: string): { name: string; version: string; extensions: string[] } {
  return { name: 'inferbox', version, extensions: [...SERVER_EXTENSIONS] };
}
