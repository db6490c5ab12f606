import type { ExportTarget } from './ExportTarget.js';
import { isBatchable } from './tritonConfig.js';

/** Where the user puts the unpacked Triton export; KServe cannot read it from this appliance. */
export const STORAGE_URI_PLACEHOLDER = 's3://REPLACE-ME/inferbox-models';

/** An InferenceService name is a DNS-1123 label: lower case, digits and '-', at most 63 characters. */
export function serviceName(model: string, version: string): string {
  const base = model.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
  return `${base.slice(0, 50)}-v${version}`.slice(0, 63);
}

/**
 * A KServe `InferenceService` (serving.kserve.io/v1beta1) for the version, to apply with kubectl
 * (JSON is valid YAML). `spec.predictor.model` uses KServe's model spec: `modelFormat.name: onnx`,
 * `protocolVersion: v2` (KServe's ONNX docs: without it the default install finds no runtime) and
 * `runtime: kserve-tritonserver`, so Triton reads `storageUri` as a model repository: the user
 * uploads the unpacked `format=triton` archive there (folder `<model>/` inside) and fills in the
 * URI. Clients keep calling `/v2/models/<model>/infer`: the same Open Inference Protocol.
 */
export function kserveManifest(target: ExportTarget): Record<string, unknown> {
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: {
      name: serviceName(target.model, target.version),
      annotations: {
        'inferbox.dev/model': target.model,
        'inferbox.dev/version': target.version,
        'inferbox.dev/precision': target.precision,
        'inferbox.dev/batching': isBatchable(target) ? `max_batch_size=${target.settings.max_batch_size}` : 'off',
        'inferbox.dev/labels': JSON.stringify(target.labels),
        'inferbox.dev/metrics': JSON.stringify(target.metrics),
      },
    },
    spec: {
      predictor: {
        model: {
          modelFormat: { name: 'onnx' },
          protocolVersion: 'v2',
          runtime: 'kserve-tritonserver',
          storageUri: STORAGE_URI_PLACEHOLDER,
        },
      },
    },
  };
}
