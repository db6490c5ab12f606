import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSync } from '@grpc/proto-loader';
import { PROTO_PATH } from '../../helpers/grpcClient.js';

/**
 * The wire interface as the Open Inference Protocol's gRPC specification defines it
 * (kserve/open-inference-protocol, specification/protocol/open_inference_grpc.proto; Triton's
 * grpc_service.proto agrees for these messages): message → field → [number, type, repeated].
 * Typed here from the spec so that an edit to the shipped .proto that would break existing
 * Triton/KServe clients fails.
 */
const SPEC: Record<string, Record<string, [number, string, boolean]>> = {
  ServerLiveRequest: {},
  ServerLiveResponse: { live: [1, 'TYPE_BOOL', false] },
  ServerReadyRequest: {},
  ServerReadyResponse: { ready: [1, 'TYPE_BOOL', false] },
  ModelReadyRequest: { name: [1, 'TYPE_STRING', false], version: [2, 'TYPE_STRING', false] },
  ModelReadyResponse: { ready: [1, 'TYPE_BOOL', false] },
  ServerMetadataRequest: {},
  ServerMetadataResponse: { name: [1, 'TYPE_STRING', false], version: [2, 'TYPE_STRING', false], extensions: [3, 'TYPE_STRING', true] },
  ModelMetadataRequest: { name: [1, 'TYPE_STRING', false], version: [2, 'TYPE_STRING', false] },
  ModelMetadataResponse: {
    name: [1, 'TYPE_STRING', false], versions: [2, 'TYPE_STRING', true], platform: [3, 'TYPE_STRING', false], inputs: [4, 'TYPE_MESSAGE', true], outputs: [5, 'TYPE_MESSAGE', true],
    properties: [6, 'TYPE_MESSAGE', true],
  },
  'ModelMetadataResponse.TensorMetadata': { name: [1, 'TYPE_STRING', false], datatype: [2, 'TYPE_STRING', false], shape: [3, 'TYPE_INT64', true] },
  ModelInferRequest: {
    model_name: [1, 'TYPE_STRING', false], model_version: [2, 'TYPE_STRING', false], id: [3, 'TYPE_STRING', false], parameters: [4, 'TYPE_MESSAGE', true],
    inputs: [5, 'TYPE_MESSAGE', true], outputs: [6, 'TYPE_MESSAGE', true], raw_input_contents: [7, 'TYPE_BYTES', true],
  },
  'ModelInferRequest.InferInputTensor': { name: [1, 'TYPE_STRING', false], datatype: [2, 'TYPE_STRING', false], shape: [3, 'TYPE_INT64', true], parameters: [4, 'TYPE_MESSAGE', true], contents: [5, 'TYPE_MESSAGE', false] },
  'ModelInferRequest.InferRequestedOutputTensor': { name: [1, 'TYPE_STRING', false], parameters: [2, 'TYPE_MESSAGE', true] },
  ModelInferResponse: {
    model_name: [1, 'TYPE_STRING', false], model_version: [2, 'TYPE_STRING', false], id: [3, 'TYPE_STRING', false], parameters: [4, 'TYPE_MESSAGE', true],
    outputs: [5, 'TYPE_MESSAGE', true], raw_output_contents: [6, 'TYPE_BYTES', true],
  },
  'ModelInferResponse.InferOutputTensor': { name: [1, 'TYPE_STRING', false], datatype: [2, 'TYPE_STRING', false], shape: [3, 'TYPE_INT64', true], parameters: [4, 'TYPE_MESSAGE', true], contents: [5, 'TYPE_MESSAGE', false] },
  InferParameter: { bool_param: [1, 'TYPE_BOOL', false], int64_param: [2, 'TYPE_INT64', false], string_param: [3, 'TYPE_STRING', false], double_param: [4, 'TYPE_DOUBLE', false], uint64_param: [5, 'TYPE_UINT64', false] },
  InferTensorContents: {
    bool_contents: [1, 'TYPE_BOOL', true], int_contents: [2, 'TYPE_INT32', true], int64_contents: [3, 'TYPE_INT64', true], uint_contents: [4, 'TYPE_UINT32', true],
    uint64_contents: [5, 'TYPE_UINT64', true], fp32_contents: [6, 'TYPE_FLOAT', true], fp64_contents: [7, 'TYPE_DOUBLE', true], bytes_contents: [8, 'TYPE_BYTES', true],
  },
};

const RPCS: [string, string, string][] = [
  ['ServerLive', 'ServerLiveRequest', 'ServerLiveResponse'],
  ['ServerReady', 'ServerReadyRequest', 'ServerReadyResponse'],
  ['ModelReady', 'ModelReadyRequest', 'ModelReadyResponse'],
  ['ServerMetadata', 'ServerMetadataRequest', 'ServerMetadataResponse'],
  ['ModelMetadata', 'ModelMetadataRequest', 'ModelMetadataResponse'],
  ['ModelInfer', 'ModelInferRequest', 'ModelInferResponse'],
];

/** Message fields: the message type each names (map fields: the map's value type). */
const MESSAGE_TYPES: Record<string, Record<string, string>> = {
  ModelMetadataResponse: { inputs: 'TensorMetadata', outputs: 'TensorMetadata', properties: 'map<string, string>' },
  ModelInferRequest: { parameters: 'map<string, InferParameter>', inputs: 'InferInputTensor', outputs: 'InferRequestedOutputTensor' },
  'ModelInferRequest.InferInputTensor': { parameters: 'map<string, InferParameter>', contents: 'InferTensorContents' },
  'ModelInferRequest.InferRequestedOutputTensor': { parameters: 'map<string, InferParameter>' },
  ModelInferResponse: { parameters: 'map<string, InferParameter>', outputs: 'InferOutputTensor' },
  'ModelInferResponse.InferOutputTensor': { parameters: 'map<string, InferParameter>', contents: 'InferTensorContents' },
};

interface FieldDescriptor { name: string; number: number; type: string; label: string; typeName: string }
interface MessageDescriptor { name: string; field: FieldDescriptor[]; oneofDecl: { name: string }[]; nestedType: MessageDescriptor[]; options: { mapEntry: boolean } | null }

const definition = loadSync(PROTO_PATH, { keepCase: true });

/** A top-level message, or one nested in it (`Outer.Inner`). */
function messageOf(path: string): MessageDescriptor | undefined {
  const [outer, inner] = path.split('.');
  const top = (definition[`inference.${outer}`] as { type: MessageDescriptor } | undefined)?.type;
  return inner === undefined ? top : top?.nestedType.find((n) => n.name === inner);
}

/** What a message field names, maps written as map<key, value>. */
function typeOf(message: MessageDescriptor, field: FieldDescriptor): string {
  const entry = message.nestedType.find((n) => n.name === field.typeName && n.options?.mapEntry);
  if (!entry) return field.typeName;
  const [key, value] = entry.field;
  const scalar = (f: FieldDescriptor) => (f.type === 'TYPE_STRING' ? 'string' : f.type);
  return `map<${scalar(key!)}, ${value!.type === 'TYPE_MESSAGE' ? value!.typeName : scalar(value!)}>`;
}

test('the shipped .proto has the spec\'s package, service and RPCs with their request and response messages', () => {
  const service = definition['inference.GRPCInferenceService'] as Record<string, { path: string; requestType: { type: { name: string } }; responseType: { type: { name: string } }; requestStream: boolean; responseStream: boolean }>;
  assert.deepEqual(Object.keys(service).sort(), RPCS.map(([name]) => name).sort());
  for (const [name, request, response] of RPCS) {
    const rpc = service[name]!;
    assert.equal(rpc.path, `/inference.GRPCInferenceService/${name}`);
    assert.deepEqual([rpc.requestType.type.name, rpc.responseType.type.name, rpc.requestStream, rpc.responseStream], [request, response, false, false]);
  }
});

test('every message has exactly the spec\'s fields: names, numbers, types, repetition; InferParameter is one oneof', () => {
  for (const [message, fields] of Object.entries(SPEC)) {
    const type = messageOf(message);
    assert.ok(type, `inference.${message} exists`);
    const actual = Object.fromEntries(type.field.map((f) => [f.name, [f.number, f.type, f.label === 'LABEL_REPEATED']]));
    assert.deepEqual(actual, fields, message);
    const named = Object.fromEntries(type.field.filter((f) => f.type === 'TYPE_MESSAGE').map((f) => [f.name, typeOf(type, f)]));
    assert.deepEqual(named, MESSAGE_TYPES[message] ?? {}, `${message}: message types`);
  }
  assert.deepEqual(messageOf('InferParameter')!.oneofDecl.map((o) => o.name), ['parameter_choice']);
  assert.deepEqual(messageOf('InferTensorContents')!.oneofDecl, [], 'typed contents are repeated fields, not a oneof');
});
