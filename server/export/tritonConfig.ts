import type { OipDatatype, TensorSpec } from '../common/datatypes.js';
import type { ExportTarget } from './ExportTarget.js';
import { opsetWarning } from './opsetWarning.js';

/**
 * Triton's DataType enum names (model_config.proto, `enum DataType`); BYTES is TYPE_STRING there.
 * https://github.com/triton-inference-server/common/blob/main/protobuf/model_config.proto
 */
const TRITON_TYPES: Record<OipDatatype, string> = {
  BOOL: 'TYPE_BOOL', UINT8: 'TYPE_UINT8', UINT16: 'TYPE_UINT16', UINT32: 'TYPE_UINT32', UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8', INT16: 'TYPE_INT16', INT32: 'TYPE_INT32', INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16', FP32: 'TYPE_FP32', FP64: 'TYPE_FP64', BYTES: 'TYPE_STRING',
};

/** A protobuf text-format string literal. */
const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const list = (values: readonly number[]) => `[ ${values.join(', ')} ]`;

/**
 * The queue timeout written when the model has none (`timeout_micros` 0). Triton applies a request's
 * `timeout` only when it is shorter than the default, and nothing is shorter than 0 (core's
 * `PriorityQueue::PolicyQueue::Enqueue`: `override_timeout_us != 0 && override_timeout_us <
 * timeout_us`), so with 0 it ignores every client timeout the appliance honours. One hour is as
 * good as no limit for a queue, and longer than any timeout a client plausibly asks for.
 */
export const NO_LIMIT_DEFAULT_TIMEOUT_MICROS = 3_600_000_000;

/** Our batcher concatenates along dim 0 only when every input and output has a dynamic first dimension (InferenceService). */
export function isBatchable(target: Pick<ExportTarget, 'inputs' | 'outputs'>): boolean {
  return [...target.inputs, ...target.outputs].every((t) => t.shape.length > 0 && t.shape[0] === -1);
}

/**
 * One `ModelInput`/`ModelOutput` (fields `name`, `data_type`, `dims`, `reshape`). With batching,
 * `dims` leaves out the batch dimension; a tensor that has only the batch dimension is written as
 * `dims: [ 1 ]` with `reshape { shape: [ ] }`, Triton's documented way to say "[batch]".
 */
function tensor(spec: TensorSpec, batching: boolean): string[] {
  const dims = batching ? spec.shape.slice(1) : spec.shape;
  const lines = ['  {', `    name: ${quote(spec.name)}`, `    data_type: ${TRITON_TYPES[spec.datatype]}`];
  if (dims.length === 0) lines.push('    dims: [ 1 ]', '    reshape { shape: [ ] }');
  else lines.push(`    dims: ${list(dims)}`);
  lines.push('  }');
  return lines;
}

/**
 * Triton's model configuration (`config.pbtxt`, protobuf text format of `ModelConfig`) for the
 * version's ONNX file, serving exactly that version (`version_policy { specific }`), carrying over
 * this appliance's serving settings: `max_batch_size` (0 = the model does not batch, dims are the
 * full shape), `dynamic_batching` with `preferred_batch_size` and `max_queue_delay_microseconds`
 * and a `default_queue_policy` (`max_queue_size`, `default_timeout_microseconds`, finite even when
 * the model has no limit; `allow_timeout_override` because our requests may ask for a shorter
 * timeout too), `instance_group` with as many instances as the model may spread to here
 * (`KIND_AUTO`: Triton puts them on a GPU when the target has one, `count` on each GPU), and the
 * onnxruntime backend's `intra_op_thread_count` parameter with the model's threads here. A model
 * whose opset is newer than KServe's default Triton runs gets a `# WARNING` line. Field names as in
 * model_config.proto (messages ModelConfig, ModelVersionPolicy, ModelInput, ModelOutput,
 * ModelDynamicBatching, ModelQueuePolicy, ModelInstanceGroup, ModelParameter).
 */
export function tritonConfig(target: ExportTarget): string {
  const batching = isBatchable(target);
  const { settings } = target;
  const maxBatch = batching ? settings.max_batch_size : 0;
  const warning = opsetWarning(target);
  const lines = [
    `# Exported by Inferbox from model ${quote(target.model)} version ${target.version}: the ${target.precision} file, the precision it serves.`,
    ...(warning === null ? [] : [`# WARNING: ${warning}.`]),
    `name: ${quote(target.model)}`,
    'platform: "onnxruntime_onnx"',
    'backend: "onnxruntime"',
    // Pinned: without a policy Triton serves only the highest numbered version it finds (`latest { num_versions: 1 }`).
    `version_policy { specific { versions: ${list([Number(target.version)])} } }`,
    `max_batch_size: ${maxBatch}`,
    'input [',
    ...target.inputs.flatMap((spec, i) => [...tensor(spec, batching).slice(0, -1), i < target.inputs.length - 1 ? '  },' : '  }']),
    ']',
    'output [',
    ...target.outputs.flatMap((spec, i) => [...tensor(spec, batching).slice(0, -1), i < target.outputs.length - 1 ? '  },' : '  }']),
    ']',
  ];
  // Triton's queue policy lives inside dynamic_batching, which needs a batch dimension (max_batch_size ≥ 1).
  if (maxBatch >= 1) {
    const preferred = settings.preferred_batch_sizes.filter((size) => size <= maxBatch);
    lines.push(
      'dynamic_batching {',
      ...(preferred.length > 0 ? [`  preferred_batch_size: ${list(preferred)}`] : []),
      `  max_queue_delay_microseconds: ${settings.max_queue_delay_micros}`,
      '  default_queue_policy {',
      '    timeout_action: REJECT',
      `    default_timeout_microseconds: ${settings.timeout_micros > 0 ? settings.timeout_micros : NO_LIMIT_DEFAULT_TIMEOUT_MICROS}`,
      '    allow_timeout_override: true',
      `    max_queue_size: ${settings.max_queue_size}`,
      '  }',
      '}',
    );
  }
  // `count` instances on the CPU, or on each GPU the pod sees (KIND_AUTO picks KIND_GPU when there is one).
  lines.push('instance_group [', '  {', `    count: ${settings.max_instances}`, '    kind: KIND_AUTO', '  }', ']');
  // The onnxruntime backend's default (0) gives every instance a thread per core it sees, and a pod
  // limited by a CPU quota sees all the node's cores: `count` instances of that oversubscribe a pod
  // of a CPU or two (KServe's default Triton runtime asks for 1). Each instance gets its threads here.
  lines.push(
    'parameters {',
    '  key: "intra_op_thread_count"',
    `  value: { string_value: ${quote(String(settings.intra_op_threads))} }`,
    '}',
  );
  return `${lines.join('\n')}\n`;
}
