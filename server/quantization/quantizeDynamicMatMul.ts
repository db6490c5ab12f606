import { DataType, decodeModel, defaultOpset, dimsOf, encodeModel, floatTensor, int8Tensor, intAttribute, numericAttribute, readFloatTensor, type NodeProto, type TensorProto } from '../onnx/onnxModel.js';
import { quantizeWeightsPerColumn, transpose } from './quantizeWeights.js';

export interface SkippedNode {
  node: string;
  op: string;
  reason: string;
}

export interface DynamicQuantization {
  /** The int8 model, or null when nothing was worth quantizing (see `reason`). */
  bytes: Uint8Array | null;
  quantized: string[];
  skipped: SkippedNode[];
  /** Conv nodes, which this pass leaves fp32 (dynamic ConvInteger is far slower than fp32 on CPU). */
  convNodes: number;
  reason: string | null;
}

/**
 * DynamicQuantizeLinear joined the default domain in opset 11. Older models (PaddleOCR's exports
 * are opset 9) get ORT's fused contrib op com.microsoft.DynamicQuantizeMatMul directly instead:
 * raising their opset would change the meaning of ops such as Clip and Pad.
 */
const PATTERN_MIN_OPSET = 11;
const MICROSOFT_DOMAIN = 'com.microsoft';

interface WeightPlan {
  /** Quantized initializer names, shared when several MatMuls use one weight. */
  quantized: string;
  scale: string;
  zeroPoint: string;
}

interface Candidate {
  node: NodeProto;
  activation: string;
  weight: TensorProto;
  transposeWeight: boolean;
  bias: string | null;
  /** The bias is a constant of shape [N] (what DynamicQuantizeMatMul's bias input takes). */
  biasIsRow: boolean;
}

/**
 * Why a MatMul or Gemm cannot take the dynamic int8 path, or the pieces it needs if it can:
 * a constant float32 2-D weight, an activation computed at run time, and for Gemm plain
 * alpha = beta = 1 and no transposed A (the fused kernel has no such options).
 */
function examine(node: NodeProto, initializers: ReadonlyMap<string, TensorProto>): Candidate | string {
  const [activation, weightName, biasName] = node.input ?? [];
  if (!activation || !weightName) return 'missing inputs';
  if (initializers.has(activation)) return 'the left operand is a constant (only x·W with a constant W is quantized)';
  const weight = initializers.get(weightName);
  if (!weight) return 'the weight is computed at run time, not a constant initializer';
  if (weight.dataType !== DataType.FLOAT) return 'the weight is not float32';
  if (dimsOf(weight).length !== 2) return `the weight has ${dimsOf(weight).length} dimensions, not 2`;
  if (!readFloatTensor(weight)) return 'the weight data is external or malformed';
  if (node.opType === 'MatMul') return { node, activation, weight, transposeWeight: false, bias: null, biasIsRow: false };
  if (numericAttribute(node, 'alpha', 1) !== 1 || numericAttribute(node, 'beta', 1) !== 1) return 'Gemm with alpha or beta other than 1';
  if (numericAttribute(node, 'transA', 0) !== 0) return 'Gemm with transA';
  const transposeWeight = numericAttribute(node, 'transB', 0) === 1;
  const bias = biasName ? initializers.get(biasName) : undefined;
  // The fused kernel takes a 1-D bias of N; a broadcast [M, N] or scalar C keeps a separate Add.
  const outputColumns = dimsOf(weight)[transposeWeight ? 0 : 1];
  const biasIsRow = bias !== undefined && dimsOf(bias).length === 1 && dimsOf(bias)[0] === outputColumns;
  return { node, activation, weight, transposeWeight, bias: biasName || null, biasIsRow };
}

/** Every tensor name the nodes read, looking into control-flow subgraphs too. */
function namesRead(nodes: readonly NodeProto[]): Set<string> {
  const names = new Set<string>();
  const visit = (list: readonly NodeProto[]) => {
    for (const node of list) {
      for (const input of node.input ?? []) names.add(input);
      for (const attribute of node.attribute ?? []) {
        if (attribute.g) visit(attribute.g.node ?? []);
        for (const g of attribute.graphs ?? []) visit(g.node ?? []);
      }
    }
  };
  visit(nodes);
  return names;
}

/**
 * Rewrites every MatMul/Gemm with a constant weight into ORT's dynamic int8 pattern:
 * DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q, x_zp, W_zp) → Cast(float) → Mul(x_scale · W_scale) [→ Add(bias)].
 * ORT fuses this chain into DynamicQuantizeMatMul at the extended optimization level (models
 * below opset 11 get that contrib op directly). Weights are
 * int8 symmetric per output column; a weight shared by several nodes is quantized once, and an
 * activation feeding several nodes is quantized once. The graph stays topologically sorted: new
 * nodes take the place of the node they replace.
 */
export function quantizeDynamicMatMul(bytes: Uint8Array): DynamicQuantization {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const useContribOp = (defaultOpset(model) ?? 0) < PATTERN_MIN_OPSET;
  // Weights are initializers, or (in some exporters' output, PaddleOCR's among them) Constant nodes.
  const initializers = new Map<string, TensorProto>((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  // New tensor names must not collide with any name the graph already uses.
  const used = new Set<string>([
    ...initializers.keys(),
    ...(graph.input ?? []).map((i) => i.name ?? ''),
    ...(graph.node ?? []).flatMap((n) => [...(n.output ?? []), n.name ?? '']),
  ]);
  const fresh = (wanted: string): string => {
    let name = wanted;
    for (let i = 1; used.has(name); i++) name = `${wanted}_${i}`;
    used.add(name);
    return name;
  };
  for (const node of graph.node ?? []) {
    const value = node.opType === 'Constant' && !node.domain ? node.attribute?.find((a) => a.name === 'value')?.t : undefined;
    if (value && node.output?.[0]) initializers.set(node.output[0], value);
  }
  const skipped: SkippedNode[] = [];
  const quantized: string[] = [];
  const weights = new Map<string, WeightPlan>();
  const activations = new Map<string, { q: string; scale: string; zeroPoint: string }>();
  const newInitializers: TensorProto[] = [];
  const nodes: NodeProto[] = [];

  const planWeight = (candidate: Candidate): WeightPlan => {
    const name = candidate.weight.name ?? '';
    const key = `${name}${candidate.transposeWeight ? ':T' : ''}`;
    const existing = weights.get(key);
    if (existing) return existing;
    const [rows, cols] = dimsOf(candidate.weight) as [number, number];
    const values = readFloatTensor(candidate.weight)!;
    const [k, n, matrix] = candidate.transposeWeight ? [cols, rows, transpose(values, rows, cols)] : [rows, cols, values];
    const { values: q, scales } = quantizeWeightsPerColumn(matrix, k, n);
    const plan = { quantized: fresh(`${key}_quantized`), scale: fresh(`${key}_scale`), zeroPoint: fresh(`${key}_zero_point`) };
    newInitializers.push(int8Tensor(plan.quantized, [k, n], q), floatTensor(plan.scale, [n], scales), int8Tensor(plan.zeroPoint, [n], new Int8Array(n)));
    weights.set(key, plan);
    return plan;
  };

  for (const node of graph.node ?? []) {
    const isCandidateOp = (node.opType === 'MatMul' || node.opType === 'Gemm') && (!node.domain || node.domain === 'ai.onnx');
    if (!isCandidateOp) {
      nodes.push(node);
      continue;
    }
    const candidate = examine(node, initializers);
    if (typeof candidate === 'string') {
      skipped.push({ node: node.name ?? '', op: node.opType ?? '', reason: candidate });
      nodes.push(node);
      continue;
    }
    const output = node.output![0]!;
    const base = node.name || output;
    const weight = planWeight(candidate);
    quantized.push(base);
    if (useContribOp) {
      const fusedBias = candidate.bias !== null && candidate.biasIsRow;
      const product = candidate.bias && !fusedBias ? fresh(`${base}_unbiased`) : output;
      const inputs = [candidate.activation, weight.quantized, weight.scale, weight.zeroPoint, ...(fusedBias ? [candidate.bias!] : [])];
      nodes.push({ name: fresh(`${base}_DynamicQuantizeMatMul`), opType: 'DynamicQuantizeMatMul', domain: MICROSOFT_DOMAIN, input: inputs, output: [product] });
      if (candidate.bias && !fusedBias) nodes.push({ name: fresh(`${base}_bias_Add`), opType: 'Add', input: [product, candidate.bias], output: [output] });
      continue;
    }
    let dq = activations.get(candidate.activation);
    if (!dq) {
      dq = { q: fresh(`${candidate.activation}_quantized`), scale: fresh(`${candidate.activation}_scale`), zeroPoint: fresh(`${candidate.activation}_zero_point`) };
      activations.set(candidate.activation, dq);
      nodes.push({ name: fresh(`${candidate.activation}_DynamicQuantizeLinear`), opType: 'DynamicQuantizeLinear', input: [candidate.activation], output: [dq.q, dq.scale, dq.zeroPoint] });
    }
    const product = candidate.bias ? fresh(`${base}_unbiased`) : output;
    const [int32, float, scale] = [fresh(`${base}_int32`), fresh(`${base}_float`), fresh(`${base}_scale`)];
    nodes.push(
      { name: fresh(`${base}_MatMulInteger`), opType: 'MatMulInteger', input: [dq.q, weight.quantized, dq.zeroPoint, weight.zeroPoint], output: [int32] },
      { name: fresh(`${base}_Cast`), opType: 'Cast', input: [int32], output: [float], attribute: [intAttribute('to', DataType.FLOAT)] },
      { name: fresh(`${base}_scale_Mul`), opType: 'Mul', input: [dq.scale, weight.scale], output: [scale] },
      { name: fresh(`${base}_Mul`), opType: 'Mul', input: [float, scale], output: [product] },
    );
    if (candidate.bias) nodes.push({ name: fresh(`${base}_bias_Add`), opType: 'Add', input: [product, candidate.bias], output: [output] });
  }

  const convNodes = (graph.node ?? []).filter((n) => n.opType === 'Conv').length;
  if (quantized.length === 0) {
    const reason = skipped.length > 0 ? `no MatMul/Gemm could be quantized (${skipped[0]!.reason})` : 'the model has no MatMul or Gemm with constant weights';
    return { bytes: null, quantized, skipped, convNodes, reason };
  }
  // Float weights that no node (subgraphs included) reads any more are dropped, so the file
  // really shrinks; old-style models also list initializers as graph inputs, which go with them.
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const stillRead = new Set([...namesRead(nodes), ...graphOutputs]);
  const dropped = new Set((graph.initializer ?? []).map((t) => t.name ?? '').filter((name) => !stillRead.has(name)));
  graph.node = nodes.filter((n) => n.opType !== 'Constant' || (n.output ?? []).some((o) => stillRead.has(o) || graphOutputs.has(o)));
  if (useContribOp && !model.opsetImport.some((o) => o.domain === MICROSOFT_DOMAIN)) model.opsetImport.push({ domain: MICROSOFT_DOMAIN, version: 1 });
  graph.initializer = [...(graph.initializer ?? []).filter((t) => !dropped.has(t.name ?? '')), ...newInitializers];
  graph.input = (graph.input ?? []).filter((i) => !dropped.has(i.name ?? ''));
  return { bytes: encodeModel(model), quantized, skipped, convNodes, reason: null };
}
