import { buildModel, type Initializer, type NodeSpec } from './onnxGraph.js';
import { mulberry32 } from '../../server/common/mulberry32.js';

export interface MlpStackSpec {
  layers: number;
  hidden: number;
  inner: number;
  /** Sequence length of the fixed input [1, tokens, hidden]. */
  tokens: number;
  seed: number;
}

/** The benchmark's MatMul-heavy model (issue 3): 6 layers of 768→3072→768 MatMul with ReLU, input [1,128,768]. */
export const BENCH_MLP_STACK: MlpStackSpec = { layers: 6, hidden: 768, inner: 3072, tokens: 128, seed: 7 };

/**
 * A transformer-FFN-like stack: per layer x·W1 (+b1) → ReLU → ·W2 (+b2), seeded weights scaled
 * like Xavier initialisation so activations stay in range through the layers.
 */
export function buildMlpStack(spec: MlpStackSpec): Uint8Array {
  const random = mulberry32(spec.seed);
  const matrix = (rows: number, cols: number) => {
    const bound = Math.sqrt(6 / (rows + cols));
    return Float32Array.from({ length: rows * cols }, () => (random() * 2 - 1) * bound);
  };
  const vector = (n: number) => Float32Array.from({ length: n }, () => (random() * 2 - 1) * 0.1);
  const initializers: Initializer[] = [];
  const nodes: NodeSpec[] = [];
  let x = 'x';
  for (let l = 0; l < spec.layers; l++) {
    initializers.push(
      { name: `w1_${l}`, type: 'float32', dims: [spec.hidden, spec.inner], data: matrix(spec.hidden, spec.inner) },
      { name: `b1_${l}`, type: 'float32', dims: [spec.inner], data: vector(spec.inner) },
      { name: `w2_${l}`, type: 'float32', dims: [spec.inner, spec.hidden], data: matrix(spec.inner, spec.hidden) },
      { name: `b2_${l}`, type: 'float32', dims: [spec.hidden], data: vector(spec.hidden) },
    );
    const out = l === spec.layers - 1 ? 'y' : `h${l}`;
    nodes.push(
      { op: 'MatMul', inputs: [x, `w1_${l}`], outputs: [`up${l}`] },
      { op: 'Add', inputs: [`up${l}`, `b1_${l}`], outputs: [`upb${l}`] },
      { op: 'Relu', inputs: [`upb${l}`], outputs: [`act${l}`] },
      { op: 'MatMul', inputs: [`act${l}`, `w2_${l}`], outputs: [`down${l}`] },
      { op: 'Add', inputs: [`down${l}`, `b2_${l}`], outputs: [out] },
    );
    x = out;
  }
  return buildModel({
    graphName: 'mlp_stack',
    inputs: [{ name: 'x', type: 'float32', shape: [1, spec.tokens, spec.hidden] }],
    outputs: [{ name: 'y', type: 'float32', shape: [1, spec.tokens, spec.hidden] }],
    nodes,
    initializers,
    producer: { name: 'inferbox-models', version: '1' },
  });
}
