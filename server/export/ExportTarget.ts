import type { TensorSpec } from '../common/datatypes.js';

/** A model version as an export needs it: signature, the file it serves, its batching and instance settings. */
export interface ExportTarget {
  model: string;
  version: string;
  /** Which file is exported: the one that serves (int8 when the gate or the admin chose it). */
  precision: 'fp32' | 'int8';
  /** Absolute path of that file. */
  file: string;
  /** The default-domain (ai.onnx) opset the model imports, as recorded at upload; null when unknown. */
  opset: number | null;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  settings: {
    max_batch_size: number;
    preferred_batch_sizes: number[];
    max_queue_delay_micros: number;
    max_queue_size: number;
    timeout_micros: number;
    max_instances: number;
    intra_op_threads: number;
  };
  labels: Record<string, string>;
  metrics: Record<string, number>;
  created_at: string;
}
