import { posix, win32 } from 'node:path';
import { decodeModel, defaultOpset, onnx, toNumber, type GraphProto, type TensorProto } from './onnxModel.js';

export interface OnnxInfo {
  irVersion: number | null;
  /** The default-domain (ai.onnx) opset. */
  opset: number | null;
  producer: string | null;
  /** `location` of every tensor stored as external data, as written in the file. */
  externalDataLocations: string[];
}

function* allTensors(graph: GraphProto | null | undefined): Generator<TensorProto> {
  if (!graph) return;
  yield* graph.initializer ?? [];
  for (const node of graph.node ?? []) {
    for (const attribute of node.attribute ?? []) {
      if (attribute.t) yield attribute.t;
      yield* attribute.tensors ?? [];
      // Control-flow ops (If, Loop, Scan) carry subgraphs with tensors of their own.
      yield* allTensors(attribute.g);
      for (const g of attribute.graphs ?? []) yield* allTensors(g);
    }
  }
}

/**
 * Reads what the registry records about an ONNX file (opset, producer) and every external-data
 * location, so a file that points outside its own folder can be refused before onnxruntime reads it.
 */
export function readOnnxInfo(bytes: Uint8Array): OnnxInfo {
  const model = decodeModel(bytes);
  const externalDataLocations: string[] = [];
  for (const tensor of allTensors(model.graph)) {
    if (tensor.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const location = tensor.externalData?.find((entry) => entry.key === 'location')?.value;
    externalDataLocations.push(location ?? '');
  }
  const producer = [model.producerName, model.producerVersion].filter(Boolean).join(' ');
  return { irVersion: toNumber(model.irVersion), opset: defaultOpset(model), producer: producer || null, externalDataLocations };
}

/** A location stays inside the model's folder when it is relative and never climbs out. */
export function isInsideModelFolder(location: string): boolean {
  if (location === '' || posix.isAbsolute(location) || win32.isAbsolute(location)) return false;
  const normalized = posix.normalize(location.replaceAll('\\', '/'));
  return !normalized.startsWith('../') && normalized !== '..';
}
