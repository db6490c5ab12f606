import { decodeModel, toNumber } from './onnxModel.js';

/** ai.onnx.ml operators that carry their classes (ZipMap; LinearClassifier, SVMClassifier, TreeEnsembleClassifier …). */
const LABEL_ATTRIBUTES = ['classlabels_strings', 'classlabels_int64s'];

/**
 * The class labels a classic-ML model (sklearn-onnx and the like) declares in its ai.onnx.ml
 * nodes, in score order, or undefined when it declares none. Only the main graph is read: these
 * operators sit at its end.
 */
export function readClassLabels(bytes: Uint8Array): string[] | undefined {
  const model = decodeModel(bytes);
  for (const node of model.graph?.node ?? []) {
    if (node.domain !== 'ai.onnx.ml') continue;
    for (const attribute of node.attribute ?? []) {
      if (!LABEL_ATTRIBUTES.includes(attribute.name ?? '')) continue;
      if (attribute.strings && attribute.strings.length > 0) return attribute.strings.map((s) => Buffer.from(s).toString('utf8'));
      if (attribute.ints && attribute.ints.length > 0) return attribute.ints.map((i) => String(toNumber(i)));
    }
  }
  return undefined;
}
