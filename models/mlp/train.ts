/**
 * Trains Inferbox's bundled default model: a small MLP that tells penguin species apart from four body
 * measurements (Palmer penguins, as shipped in vega-datasets). Everything is seeded and computed in plain
 * TypeScript, so every run writes byte-identical model.onnx and model.json.
 *
 * Run: npx tsx models/mlp/train.ts
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import '../../server/runtime/disableOrtTelemetry.js'; // onnxruntime's telemetry off before it loads
import * as ort from 'onnxruntime-node';
import { mulberry32 } from '../../server/common/mulberry32.js';
import { attr, buildModel, type Initializer, type NodeSpec } from '../lib/onnxGraph.js';

export const SEED = 42;
export const EPOCHS = 500;
export const LEARNING_RATE = 0.01;
export const HELDOUT_FRACTION = 0.2;
export const LAYER_SIZES = [4, 16, 16, 3] as const;

/** Dataset columns in the model's input order, with the names clients see. */
export const FEATURES = [
  { column: 'Beak Length (mm)', name: 'beak_length_mm', unit: 'mm' },
  { column: 'Beak Depth (mm)', name: 'beak_depth_mm', unit: 'mm' },
  { column: 'Flipper Length (mm)', name: 'flipper_length_mm', unit: 'mm' },
  { column: 'Body Mass (g)', name: 'body_mass_g', unit: 'g' },
] as const;

export const LABELS = ['Adelie', 'Chinstrap', 'Gentoo'] as const;

export const DESCRIPTION =
  'Demo classifier of penguin species (Adelie, Chinstrap, Gentoo) from beak, flipper and body-mass measurements, trained on the Palmer penguins data.';

export const DATASET_SOURCE = 'npm vega-datasets@3.2.1 data/penguins.json';

const MODEL_DIR = new URL('./', import.meta.url);

export interface Dataset {
  /** One row of raw measurements per penguin, in FEATURES order. */
  features: number[][];
  /** Index into LABELS per row. */
  labels: number[];
}

/** Loads penguins.json, dropping rows with a missing measurement. */
export function loadPenguins(path: string = penguinsPath()): Dataset {
  const rows = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>[];
  const dataset: Dataset = { features: [], labels: [] };
  for (const row of rows) {
    const values = FEATURES.map(({ column }) => row[column]);
    if (!values.every((value): value is number => typeof value === 'number')) continue;
    const label = (LABELS as readonly unknown[]).indexOf(row['Species']);
    if (label < 0) throw new Error(`unknown species ${String(row['Species'])}`);
    dataset.features.push(values);
    dataset.labels.push(label);
  }
  return dataset;
}

function penguinsPath(): string {
  // The package's exports map hides data/, so locate it next to the package's entry point.
  return fileURLToPath(new URL('../data/penguins.json', import.meta.resolve('vega-datasets')));
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

export interface Split {
  /** Row indices, ascending. */
  train: number[];
  heldout: number[];
}

/** Holds out round(fraction × count) rows of every class, so both parts keep the class balance. */
export function stratifiedSplit(labels: readonly number[], fraction: number, seed: number): Split {
  const random = mulberry32(seed);
  const split: Split = { train: [], heldout: [] };
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  for (const label of classes) {
    const members = shuffle(labels.flatMap((l, index) => (l === label ? [index] : [])), random);
    const heldoutCount = Math.round(members.length * fraction);
    split.heldout.push(...members.slice(0, heldoutCount));
    split.train.push(...members.slice(heldoutCount));
  }
  split.train.sort((a, b) => a - b);
  split.heldout.sort((a, b) => a - b);
  return split;
}

export interface Standardizer {
  mean: Float32Array;
  std: Float32Array;
}

/** Per-feature mean and population standard deviation, rounded to float32 as the graph will hold them. */
export function fitStandardizer(rows: readonly number[][]): Standardizer {
  const width = rows[0]?.length ?? 0;
  const mean = new Float32Array(width);
  const std = new Float32Array(width);
  for (let f = 0; f < width; f++) {
    const column = rows.map((row) => row[f]!);
    const m = column.reduce((sum, v) => sum + v, 0) / column.length;
    mean[f] = m;
    std[f] = Math.sqrt(column.reduce((sum, v) => sum + (v - m) ** 2, 0) / column.length);
  }
  return { mean, std };
}

function standardize(row: readonly number[], { mean, std }: Standardizer): number[] {
  return row.map((v, f) => (v - mean[f]!) / std[f]!);
}

/** A fully connected layer; w is row-major [inputs × outputs], the layout ONNX Gemm takes as B. */
export interface Dense {
  inputs: number;
  outputs: number;
  w: Float64Array;
  b: Float64Array;
}

export interface TrainOptions {
  seed: number;
  epochs: number;
  learningRate: number;
}

/** He-uniform initialisation suits the ReLU hidden layers; biases start at zero. */
function initLayers(sizes: readonly number[], random: () => number): Dense[] {
  return sizes.slice(1).map((outputs, i) => {
    const inputs = sizes[i]!;
    const limit = Math.sqrt(6 / inputs);
    const w = Float64Array.from({ length: inputs * outputs }, () => (random() * 2 - 1) * limit);
    return { inputs, outputs, w, b: new Float64Array(outputs) };
  });
}

function denseForward(layer: Dense, x: ArrayLike<number>, relu: boolean): Float64Array {
  const out = Float64Array.from(layer.b);
  for (let i = 0; i < layer.inputs; i++) {
    const xi = x[i]!;
    for (let j = 0; j < layer.outputs; j++) out[j]! += xi * layer.w[i * layer.outputs + j]!;
  }
  return relu ? out.map((v) => (v > 0 ? v : 0)) : out;
}

/** Activations of every layer for one input; the last entry is the logits. */
function forward(layers: readonly Dense[], x: readonly number[]): Float64Array[] {
  const activations: Float64Array[] = [Float64Array.from(x)];
  layers.forEach((layer, i) => activations.push(denseForward(layer, activations[i]!, i < layers.length - 1)));
  return activations;
}

function softmax(logits: Float64Array): Float64Array {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((s, v) => s + v, 0);
  return exps.map((v) => v / sum);
}

/** Adds one sample's cross-entropy gradient (scaled by `scale`) into grads, by backpropagation. */
function accumulateGradients(layers: readonly Dense[], grads: Dense[], x: readonly number[], label: number, scale: number): void {
  const activations = forward(layers, x);
  // d(cross-entropy)/d(logits) = softmax - one-hot.
  let delta = softmax(activations[layers.length]!).map((p, k) => (p - (k === label ? 1 : 0)) * scale);
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l]!;
    const grad = grads[l]!;
    const input = activations[l]!;
    const back = new Float64Array(layer.inputs);
    for (let i = 0; i < layer.inputs; i++) {
      for (let j = 0; j < layer.outputs; j++) {
        grad.w[i * layer.outputs + j]! += input[i]! * delta[j]!;
        back[i]! += layer.w[i * layer.outputs + j]! * delta[j]!;
      }
    }
    delta.forEach((d, j) => (grad.b[j]! += d));
    // Every layer but the first takes a ReLU output as input, so the gradient flows back only where that was positive.
    if (l > 0) delta = back.map((d, i) => (input[i]! > 0 ? d : 0));
  }
}

function zerosLike(layers: readonly Dense[]): Dense[] {
  return layers.map(({ inputs, outputs }) => ({
    inputs, outputs, w: new Float64Array(inputs * outputs), b: new Float64Array(outputs),
  }));
}

/**
 * Full-batch Adam on mean cross-entropy over already standardised rows.
 * β1^t and β2^t are kept as running products rather than Math.pow so the arithmetic is plain IEEE operations.
 */
export function trainMlp(x: readonly number[][], y: readonly number[], options: TrainOptions): Dense[] {
  const [beta1, beta2, epsilon] = [0.9, 0.999, 1e-8];
  const layers = initLayers(LAYER_SIZES, mulberry32(options.seed));
  const params = layers.flatMap((layer) => [layer.w, layer.b]);
  const m = params.map((p) => new Float64Array(p.length));
  const v = params.map((p) => new Float64Array(p.length));
  let beta1Power = 1;
  let beta2Power = 1;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const grads = zerosLike(layers);
    x.forEach((row, n) => accumulateGradients(layers, grads, row, y[n]!, 1 / x.length));
    beta1Power *= beta1;
    beta2Power *= beta2;
    grads.flatMap((grad) => [grad.w, grad.b]).forEach((g, p) => {
      const [param, mp, vp] = [params[p]!, m[p]!, v[p]!];
      for (let k = 0; k < g.length; k++) {
        mp[k] = beta1 * mp[k]! + (1 - beta1) * g[k]!;
        vp[k] = beta2 * vp[k]! + (1 - beta2) * g[k]! * g[k]!;
        param[k]! -= (options.learningRate * (mp[k]! / (1 - beta1Power))) / (Math.sqrt(vp[k]! / (1 - beta2Power)) + epsilon);
      }
    });
  }
  return layers;
}

/** Species predicted by the float64 training-time network, to check the exported graph against. */
export function predict(layers: readonly Dense[], standardizer: Standardizer, row: readonly number[]): number {
  const logits = forward(layers, standardize(row, standardizer))[layers.length]!;
  return logits.indexOf(Math.max(...logits));
}

/**
 * The inference graph: raw features → (x − mean) / std → Gemm+ReLU → Gemm+ReLU → Gemm → logits, then
 * Softmax for `probabilities` and ArgMax of the logits for `label`.
 */
export function buildMlpModel(layers: readonly Dense[], standardizer: Standardizer): Uint8Array {
  const initializers: Initializer[] = [
    { name: 'feature_mean', type: 'float32', dims: [FEATURES.length], data: standardizer.mean },
    { name: 'feature_std', type: 'float32', dims: [FEATURES.length], data: standardizer.std },
    ...layers.flatMap((layer, i): Initializer[] => [
      { name: `dense${i}_weight`, type: 'float32', dims: [layer.inputs, layer.outputs], data: Float32Array.from(layer.w) },
      { name: `dense${i}_bias`, type: 'float32', dims: [layer.outputs], data: Float32Array.from(layer.b) },
    ]),
  ];
  const nodes: NodeSpec[] = [
    { op: 'Sub', inputs: ['features', 'feature_mean'], outputs: ['centered'] },
    { op: 'Div', inputs: ['centered', 'feature_std'], outputs: ['hidden0'] },
    ...layers.flatMap((_, i): NodeSpec[] => {
      const last = i === layers.length - 1;
      const gemm = { op: 'Gemm', inputs: [`hidden${i}`, `dense${i}_weight`, `dense${i}_bias`], outputs: [last ? 'logits' : `dense${i}`] };
      return last ? [gemm] : [gemm, { op: 'Relu', inputs: [`dense${i}`], outputs: [`hidden${i + 1}`] }];
    }),
    { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: attr.int(1) } },
    { op: 'ArgMax', inputs: ['logits'], outputs: ['label'], attributes: { axis: attr.int(1), keepdims: attr.int(0) } },
  ];
  return buildModel({
    graphName: 'penguin_mlp',
    inputs: [{ name: 'features', type: 'float32', shape: ['batch', FEATURES.length] }],
    outputs: [
      { name: 'probabilities', type: 'float32', shape: ['batch', LABELS.length] },
      { name: 'label', type: 'int64', shape: ['batch'] },
    ],
    nodes,
    initializers,
    opset: 17,
    irVersion: 8,
    producer: { name: 'inferbox-models', version: '1' },
    metadata: {
      labels: JSON.stringify(LABELS),
      features: JSON.stringify(FEATURES.map((f) => f.name)),
      description: DESCRIPTION,
    },
  });
}

export interface TrainedModel {
  onnx: Uint8Array;
  layers: Dense[];
  standardizer: Standardizer;
  dataset: Dataset;
  split: Split;
}

/** The whole deterministic pipeline, from penguins.json to ONNX bytes. */
export function trainDefaultModel(): TrainedModel {
  const dataset = loadPenguins();
  const split = stratifiedSplit(dataset.labels, HELDOUT_FRACTION, SEED);
  const trainRows = split.train.map((i) => dataset.features[i]!);
  const standardizer = fitStandardizer(trainRows);
  const layers = trainMlp(
    trainRows.map((row) => standardize(row, standardizer)),
    split.train.map((i) => dataset.labels[i]!),
    // A seed distinct from the split's, so the two random streams do not share draws.
    { seed: SEED + 1, epochs: EPOCHS, learningRate: LEARNING_RATE },
  );
  return { onnx: buildMlpModel(layers, standardizer), layers, standardizer, dataset, split };
}

/** Accuracy of an ONNX model file on the given rows, judged by the `label` output onnxruntime computes. */
export async function onnxAccuracy(modelPath: string, rows: readonly number[][], labels: readonly number[]): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath);
  try {
    const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, FEATURES.length]);
    const { label } = await session.run({ features: input });
    const predicted = label!.data as BigInt64Array;
    const correct = labels.filter((expected, i) => predicted[i] === BigInt(expected)).length;
    return correct / labels.length;
  } finally {
    await session.release();
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The model card the appliance installs with the model (issue 11): the features by the names
 * business apps use, in the input's column order, and the species as labels of `probabilities`.
 * The graph standardizes the raw measurements itself, so the card maps them unchanged.
 */
export function servingCard() {
  return {
    description: DESCRIPTION,
    owner: 'Inferbox (bundled demo model)',
    intended_use: 'Trying the appliance: a penguin species from four body measurements. Not for decisions about real animals outside the Palmer Archipelago data it was trained on.',
    features: FEATURES.map(({ name, column: description }, column) => ({ name, description, type: 'number', input: 'features', column })),
    output: { scores: 'probabilities', labels: [...LABELS], thresholds: {} },
  };
}

/** Trains, writes model.onnx, scores the written file with onnxruntime and writes model.json and card.json beside it. */
export async function writeDefaultModel(dir: URL = MODEL_DIR): Promise<{ heldoutAccuracy: number; split: Split }> {
  const { onnx, dataset, split } = trainDefaultModel();
  const onnxPath = fileURLToPath(new URL('model.onnx', dir));
  writeFileSync(onnxPath, onnx);
  const heldoutAccuracy = await onnxAccuracy(
    onnxPath,
    split.heldout.map((i) => dataset.features[i]!),
    split.heldout.map((i) => dataset.labels[i]!),
  );
  const card = {
    name: 'mlp',
    description: DESCRIPTION,
    dataset: {
      name: 'Palmer penguins',
      source: DATASET_SOURCE,
      rows_used: dataset.labels.length,
      train_rows: split.train.length,
      heldout_rows: split.heldout.length,
    },
    features: FEATURES.map(({ name, unit }) => ({ name, unit })),
    labels: LABELS,
    heldout_accuracy: heldoutAccuracy,
    seed: SEED,
    epochs: EPOCHS,
    sha256: sha256(readFileSync(onnxPath)),
  };
  writeFileSync(fileURLToPath(new URL('model.json', dir)), `${JSON.stringify(card, null, 2)}\n`);
  writeFileSync(fileURLToPath(new URL('card.json', dir)), `${JSON.stringify(servingCard(), null, 2)}\n`);
  // The held-out rows double as the appliance's validation samples for the int8 gate (the same
  // body POST /api/models/{m}/samples takes): real inputs the model never trained on.
  const samples = split.heldout.map((i) => ({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: dataset.features[i]! }] }));
  writeFileSync(fileURLToPath(new URL('samples.json', dir)), `${JSON.stringify({ samples })}\n`);
  return { heldoutAccuracy, split };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { heldoutAccuracy, split } = await writeDefaultModel();
  console.log(`held-out accuracy ${heldoutAccuracy} (${split.heldout.length} rows; trained on ${split.train.length})`);
}
