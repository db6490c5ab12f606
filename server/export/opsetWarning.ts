import type { ExportTarget } from './ExportTarget.js';

/**
 * What KServe's default `kserve-tritonserver` ClusterServingRuntime runs, checked against KServe
 * v0.20.0 (2026-08):
 * - image: kserve/kserve `config/runtimes/kustomization.yaml` (`kserve-tritonserver` →
 *   `nvcr.io/nvidia/tritonserver`, tag `23.05-py3`; the same in the Helm chart's
 *   `charts/kserve-runtime-configs/values.yaml`);
 * - ONNX Runtime: Triton 23.05 (server 2.34.0) builds its onnxruntime backend with ORT 1.15.0
 *   (triton-inference-server/server `build.py` on branch r23.05, `TRITON_VERSION_MAP['2.34.0']`);
 * - opset: ORT 1.15 implements ONNX opset 19 (onnxruntime's `docs/reference/compatibility.md`,
 *   "ONNX opset support" table: 1.15 → ONNX 1.14, opset 19).
 * A cluster that pins another image has another ORT: Triton's release notes name it.
 */
export const KSERVE_TRITON_RUNTIME = { image: 'nvcr.io/nvidia/tritonserver:23.05-py3', onnxruntime: '1.15.0', maxOpset: 19 } as const;

/**
 * A warning for the export when the model's default-domain opset is newer than the one the ONNX
 * Runtime in KServe's default Triton implements: that runtime has no kernel for an operator added
 * or changed after it, so the model may fail to load there while this appliance's newer ORT serves
 * it. Null when it fits, or when the opset is unknown.
 */
export function opsetWarning(target: Pick<ExportTarget, 'opset'>): string | null {
  const { image, onnxruntime, maxOpset } = KSERVE_TRITON_RUNTIME;
  if (target.opset === null || target.opset <= maxOpset) return null;
  return `the model uses ONNX opset ${target.opset}; ONNX Runtime ${onnxruntime} in ${image} (KServe's default kserve-tritonserver runtime) implements opset ${maxOpset} at most, so the model may fail to load there: use a newer Triton image in the ServingRuntime or convert the model to opset ${maxOpset}`;
}
