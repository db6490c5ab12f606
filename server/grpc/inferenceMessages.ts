/**
 * The OIP v2 gRPC messages as `@grpc/proto-loader` hands them over with the options of
 * `loadInferenceService` (field names as in the .proto, 64-bit integers as decimal strings, bytes as
 * Buffers, defaults filled in, the oneof's chosen field named in `parameter_choice`).
 */
export type Int64 = string | number;

export interface InferParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: Int64;
  string_param?: string;
  double_param?: number;
  uint64_param?: Int64;
}

export type InferParameters = Record<string, InferParameter>;

export interface InferTensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: Int64[];
  uint_contents: number[];
  uint64_contents: Int64[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Buffer[];
}

export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: Int64[];
  parameters: InferParameters;
  contents: InferTensorContents | null;
}

export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: InferParameters;
  inputs: InferInputTensor[];
  outputs: { name: string; parameters: InferParameters }[];
  raw_input_contents: Buffer[];
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: InferParameters;
  outputs: { name: string; datatype: string; shape: number[]; parameters: InferParameters }[];
  raw_output_contents: Buffer[];
}

/** ModelReadyRequest and ModelMetadataRequest. */
export interface ModelRequest {
  name: string;
  version: string;
}
