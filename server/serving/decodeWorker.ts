/**
 * JSON decode worker: runs decodeJsonInferBody off the HTTP thread for JsonDecodePool. The body
 * bytes arrive transferred (or copied once); the decoded tensors leave transferred.
 */
import { parentPort } from 'node:worker_threads';
import { transferablesOf, type RuntimeTensor } from '../common/datatypes.js';
import { isInferboxError, type ErrorCode } from '../common/errors.js';
import type { DecodedInferRequest, ModelSignature } from './decodeInferRequest.js';
import { decodeJsonInferBody } from './decodeJsonInferBody.js';

export interface DecodeRequest {
  id: number;
  body: Uint8Array;
  /** The binary-extension part after the JSON header, if any. */
  binary: Uint8Array | undefined;
  signature: ModelSignature;
}

/** A DecodedInferRequest as it crosses threads: feeds as entries, so '__proto__' stays a name. */
export interface WireDecoded extends Omit<DecodedInferRequest, 'feeds'> {
  feeds: Array<[string, RuntimeTensor]>;
}

/** InferboxErrors travel as their parts and are rebuilt equal; anything else is a bug and comes back as a plain Error. */
export type WireError =
  | { kind: 'inferbox'; code: ErrorCode; message: string; headers: Record<string, string>; stack: string | undefined }
  | { kind: 'bug'; message: string; stack: string | undefined };

export type DecodeReply = { id: number; ok: true; result: WireDecoded } | { id: number; ok: false; error: WireError };

function toWireError(error: unknown): WireError {
  if (isInferboxError(error)) return { kind: 'inferbox', code: error.code, message: error.message, headers: { ...error.headers }, stack: error.stack };
  if (error instanceof Error) return { kind: 'bug', message: error.message, stack: error.stack };
  return { kind: 'bug', message: String(error), stack: undefined };
}

const port = parentPort;
if (!port) throw new Error('decodeWorker must run in a worker thread');

port.on('message', (request: DecodeRequest) => {
  let reply: DecodeReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
    const binary = request.binary && Buffer.from(request.binary.buffer, request.binary.byteOffset, request.binary.byteLength);
    const decoded = decodeJsonInferBody(body, request.signature, binary);
    const feeds = Object.entries(decoded.feeds);
    transfer = transferablesOf(feeds.map(([, tensor]) => tensor));
    reply = { id: request.id, ok: true, result: { ...decoded, feeds } };
  } catch (error) {
    reply = { id: request.id, ok: false, error: toWireError(error) };
  }
  try {
    port.postMessage(reply, transfer);
  } catch (error) {
    // A reply that cannot be posted is our bug; the request fails, the worker lives on.
    port.postMessage({ id: request.id, ok: false, error: toWireError(error) } satisfies DecodeReply);
  }
});
