import type { TensorSpec } from '../common/datatypes.js';
import type { ModelSignature } from '../serving/decodeInferRequest.js';
import type { Feature, ModelCard } from './modelCard.js';

const INTEGER = /^U?INT/;
/** Where the size of an image input is dynamic, a common CNN input size to start from. */
const DEFAULT_IMAGE_SIDE = 224;

function scalarFeature(spec: TensorSpec, name: string, column: number): Feature {
  if (spec.datatype === 'BYTES') return { name, type: 'text', input: spec.name, column, max_length: 10_000 };
  if (spec.datatype === 'BOOL') return { name, type: 'boolean', input: spec.name, column };
  return { name, type: INTEGER.test(spec.datatype) ? 'integer' : 'number', input: spec.name, column };
}

/** An image input: float, rank 4, 1 or 3 channels first (NCHW) or last (NHWC). */
function imageFeature(spec: TensorSpec, notes: string[]): Feature | undefined {
  if (spec.datatype !== 'FP32' || spec.shape.length !== 4) return undefined;
  const [, d1, d2, d3] = spec.shape as [number, number, number, number];
  const nchw = d1 === 1 || d1 === 3;
  if (!nchw && d3 !== 1 && d3 !== 3) return undefined;
  const [channels, height, width] = nchw ? [d1, d2, d3] : [d3, d1, d2];
  if (height === -1 || width === -1) notes.push(`input '${spec.name}': its image size is dynamic; set image.width and image.height to what the model was trained on`);
  notes.push(`input '${spec.name}': set the image's normalization (scale, mean, std) and channel order to the model's training preprocessing`);
  return {
    name: spec.name,
    type: 'image',
    input: spec.name,
    column: 0,
    image: {
      width: width === -1 ? DEFAULT_IMAGE_SIDE : width,
      height: height === -1 ? DEFAULT_IMAGE_SIDE : height,
      channels: channels === 1 ? 'gray' : 'rgb',
      layout: nchw ? 'nchw' : 'nhwc',
      resize: 'stretch',
      scale: 1 / 255,
      mean: [0],
      std: [1],
      pad_value: 0,
    },
  };
}

function featuresOf(spec: TensorSpec, notes: string[]): Feature[] {
  const image = imageFeature(spec, notes);
  if (image) return [image];
  if (spec.shape.length === 1 || (spec.shape.length === 2 && spec.shape[1] === 1)) return [scalarFeature(spec, spec.name, 0)];
  if (spec.shape.length === 2 && spec.shape[1]! > 1) {
    notes.push(`input '${spec.name}': its ${spec.shape[1]} columns are named ${spec.name}_0 … ${spec.name}_${spec.shape[1]! - 1}; give them the names and types business apps use`);
    return Array.from({ length: spec.shape[1]! }, (_, i) => scalarFeature(spec, `${spec.name}_${i}`, i));
  }
  notes.push(`input '${spec.name}' (shape ${JSON.stringify(spec.shape)}): no named feature can be inferred for it; describe it by hand`);
  return spec.shape.length === 2 ? [scalarFeature(spec, `${spec.name}_0`, 0)] : [];
}

/** The scores: preferably a numeric [rows, K ≥ 2] output (class probabilities), else the first numeric one. */
function scoresOutput(outputs: readonly TensorSpec[]): TensorSpec | undefined {
  const numeric = outputs.filter((o) => o.datatype !== 'BYTES' && o.datatype !== 'BOOL' && o.shape.length >= 1 && o.shape.length <= 2);
  return numeric.find((o) => o.shape.length === 2 && o.shape[1]! >= 2) ?? numeric[0];
}

/**
 * A starting card from a version's signature and, when the ONNX file declares them (ai.onnx.ml
 * ZipMap or classifier nodes), its class labels. `notes` say what the admin still has to fill in;
 * the card is checked against the model only when it is saved.
 */
export function inferModelCard(signature: ModelSignature, classLabels: string[] | undefined): { card: ModelCard; notes: string[] } {
  const notes: string[] = [];
  const features = signature.inputs.flatMap((spec) => featuresOf(spec, notes));
  const scores = scoresOutput(signature.outputs);
  if (!scores) notes.push('no numeric output to read scores from; set output.scores');
  const width = scores?.shape.length === 2 ? scores.shape[1]! : 1;
  let labels: string[] | undefined;
  if (classLabels && (classLabels.length === width || (width === 1 && classLabels.length === 2))) {
    labels = classLabels;
  } else if (width > 1) {
    labels = Array.from({ length: width }, (_, k) => `class_${k}`);
    notes.push(`output '${scores!.name}': ${width} scores per row, labelled class_0 … class_${width - 1}; give them their real names`);
  } else if (scores) {
    notes.push(`output '${scores.name}' gives one value per row: read as a regression; a binary classifier gets two labels (negative, positive)`);
  }
  return {
    card: { description: '', owner: '', intended_use: '', features, output: { scores: scores?.name ?? '', ...(labels ? { labels } : {}), thresholds: {} } },
    notes,
  };
}
