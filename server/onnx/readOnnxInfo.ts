import { posix, win32 } from 'node:path';
import { decodeModel, defaultOpset, onnx, toNumber, type GraphProto, type NodeProto, type TensorProto } from './onnxModel.js';

export interface OnnxInfo {
  irVersion: number | null;
  /** The default-domain (ai.onnx) opset. */
  opset: number | null;
  producer: string | null;
  /** `location` of every tensor stored as external data, as written in the file. */
  externalDataLocations: string[];
}

/** Every tensor a list of nodes carries in attributes, dense or sparse, subgraphs included. */
function* nodeTensors(nodes: readonly NodeProto[]): Generator<TensorProto> {
  for (const node of nodes) {
    for (const attribute of node.attribute ?? []) {
      if (attribute.t) yield attribute.t;
      yield* attribute.tensors ?? [];
      for (const sparse of [attribute.sparseTensor, ...(attribute.sparseTensors ?? [])]) {
        if (sparse?.values) yield sparse.values;
        if (sparse?.indices) yield sparse.indices;
      }
      // Control-flow ops (If, Loop, Scan) carry subgraphs with tensors of their own.
      yield* graphTensors(attribute.g);
      for (const g of attribute.graphs ?? []) yield* graphTensors(g);
    }
  }
}

function* graphTensors(graph: GraphProto | null | undefined): Generator<TensorProto> {
  if (!graph) return;
  yield* graph.initializer ?? [];
  for (const sparse of graph.sparseInitializer ?? []) {
    if (sparse.values) yield sparse.values;
    if (sparse.indices) yield sparse.indices;
  }
  yield* nodeTensors(graph.node ?? []);
}

/**
 * Reads what the registry records about an ONNX file (opset, producer) and every external-data
 * location, so a file that points outside its own folder can be refused before onnxruntime reads it.
 */
export function readOnnxInfo(bytes: Uint8Array): OnnxInfo {
  const model = decodeModel(bytes);
  const externalDataLocations: string[] = [];
  // Model-local functions hold nodes too, and so can hold tensors.
  const functionNodes = (model.functions ?? []).flatMap((f) => f.node ?? []);
  for (const tensor of [...graphTensors(model.graph), ...nodeTensors(functionNodes)]) {
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
