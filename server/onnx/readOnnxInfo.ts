import { posix, win32 } from 'node:path';
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import { inferboxError, messageOf } from '../common/errors.js';

// onnx-proto is CommonJS and replaces module.exports wholesale: Node exposes it only as a default import.
const { onnx } = onnxProto;

export interface OnnxInfo {
  irVersion: number | null;
  /** The default-domain (ai.onnx) opset. */
  opset: number | null;
  producer: string | null;
  /** `location` of every tensor stored as external data, as written in the file. */
  externalDataLocations: string[];
}

const toNumber = (value: number | Long | null | undefined): number | null => (value == null ? null : Number(value));

function* allTensors(graph: Onnx.IGraphProto | null | undefined): Generator<Onnx.ITensorProto> {
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
  let model: Onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw inferboxError('IBX_ERR_MALFORMED_ONNX', messageOf(error));
  }
  if (!model.graph) throw inferboxError('IBX_ERR_MALFORMED_ONNX', 'it has no graph');
  const opset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  const externalDataLocations: string[] = [];
  for (const tensor of allTensors(model.graph)) {
    if (tensor.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const location = tensor.externalData?.find((entry) => entry.key === 'location')?.value;
    externalDataLocations.push(location ?? '');
  }
  const producer = [model.producerName, model.producerVersion].filter(Boolean).join(' ');
  return { irVersion: toNumber(model.irVersion), opset: toNumber(opset?.version), producer: producer || null, externalDataLocations };
}

/** A location stays inside the model's folder when it is relative and never climbs out. */
export function isInsideModelFolder(location: string): boolean {
  if (location === '' || posix.isAbsolute(location) || win32.isAbsolute(location)) return false;
  const normalized = posix.normalize(location.replaceAll('\\', '/'));
  return !normalized.startsWith('../') && normalized !== '..';
}
