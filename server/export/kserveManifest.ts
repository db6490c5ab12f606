import type { ExportTarget } from './ExportTarget.js';
import { opsetWarning } from './opsetWarning.js';
import { serviceName } from './serviceName.js';
import { isBatchable } from './tritonConfig.js';

/**
 * Where the user unpacks Triton exports; KServe cannot read them from this appliance. Each export
 * gets its own folder below it (the archive's top folder), never this folder itself: Triton loads
 * every model it finds in its repository and serves the highest version of each.
 */
export const STORAGE_ROOT_PLACEHOLDER = 's3://REPLACE-ME/inferbox-models';

/**
 * A KServe `InferenceService` (serving.kserve.io/v1beta1) for the version, to apply with kubectl
 * (JSON is valid YAML). `spec.predictor.model` uses KServe's model spec: `modelFormat.name: onnx`,
 * `protocolVersion: v2` (KServe's ONNX docs: without it the default install finds no runtime) and
 * `runtime: kserve-tritonserver`, so Triton reads `storageUri` as a model repository: the user
 * unpacks the `format=triton` archive below the storage root (its top folder is this version's own
 * repository, `<service name>/<model>/…`) and replaces the root's placeholder. Clients keep
 * calling `/v2/models/<model>/infer`: the same Open Inference Protocol. A model whose opset is
 * newer than KServe's default Triton runs gets an `inferbox.dev/warning` annotation.
 */
export function kserveManifest(target: ExportTarget): Record<string, unknown> {
  const name = serviceName(target.model, target.version);
  const warning = opsetWarning(target);
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: {
      name,
      annotations: {
        'inferbox.dev/model': target.model,
        'inferbox.dev/version': target.version,
        'inferbox.dev/precision': target.precision,
        'inferbox.dev/batching': isBatchable(target) ? `max_batch_size=${target.settings.max_batch_size}` : 'off',
        'inferbox.dev/labels': JSON.stringify(target.labels),
        'inferbox.dev/metrics': JSON.stringify(target.metrics),
        ...(warning === null ? {} : { 'inferbox.dev/warning': warning }),
      },
    },
    spec: {
      predictor: {
        model: {
          modelFormat: { name: 'onnx' },
          protocolVersion: 'v2',
          runtime: 'kserve-tritonserver',
          storageUri: `${STORAGE_ROOT_PLACEHOLDER}/${name}`,
        },
      },
    },
  };
}
