import type { TensorSpec } from '../common/datatypes.js';
import { assertVersion } from '../common/names.js';
import type { ModelRegistry } from './ModelRegistry.js';

/** OIP model metadata ($metadata_model_response), the same over REST and gRPC. */
export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: 'onnxruntime_onnx';
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** The named version's signature, else the active one's (a model always has at least one version): 404 for unknown names. */
export function modelMetadata(registry: ModelRegistry, name: string, version: string | undefined): ModelMetadata {
  const model = registry.getModel(name);
  const chosen = registry.getVersion(model.name, version === undefined ? model.active_version ?? model.versions.at(-1)!.version : assertVersion(version));
  return { name: model.name, versions: model.versions.map((v) => v.version), platform: 'onnxruntime_onnx', inputs: chosen.inputs, outputs: chosen.outputs };
}
