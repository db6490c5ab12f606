import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';
import { PROTO_PATH } from './grpcClient.js';

/** A gRPC method of the shipped .proto: its path and the encoder grpc-js's client would use. */
export function grpcMethod(name: string): MethodDefinition<object, object> {
  const service = loadSync(PROTO_PATH, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })['inference.GRPCInferenceService'] as Record<string, MethodDefinition<object, object>>;
  return service[name]!;
}

/** A message as it goes on the wire (compressed flag 0, 4-byte big-endian length, the protobuf bytes): built once, before a measurement. */
export function grpcFrame(method: MethodDefinition<object, object>, message: object): Buffer {
  const encoded = method.requestSerialize(message);
  const frame = Buffer.allocUnsafe(5 + encoded.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(encoded.length, 1);
  encoded.copy(frame, 5);
  return frame;
}

export interface RawGrpcAnswer {
  /** grpc-status and grpc-message from a trailers-only answer's headers or from the trailers. */
  code: number | null;
  details: string | null;
  /** Every header and trailer field the server sent. */
  fields: IncomingHttpHeaders;
  /** Whether the client had handed the whole request to the connection when the status arrived. */
  sentAllBeforeStatus: boolean;
  /** Whether it had when the stream closed (false: the server reset the stream before taking it all). */
  sentAll: boolean;
}

/**
 * One unary call straight on node:http2 with a frame built beforehand: grpc-js's client would
 * encode and copy the message during the call (tens of MB for a big one), which is what a test
 * measuring the server's memory must not count; it also tells whether the server answered before
 * the request was all sent.
 */
export function rawGrpcCall(session: ClientHttp2Session, path: string, frame: Buffer, metadata: Record<string, string> = {}): Promise<RawGrpcAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...metadata });
    const fields: IncomingHttpHeaders = {};
    let sentAll = false;
    let sentAllBeforeStatus: boolean | null = null;
    const read = (received: IncomingHttpHeaders) => {
      Object.assign(fields, received);
      if (received['grpc-status'] !== undefined) sentAllBeforeStatus ??= sentAll;
    };
    stream.on('response', read);
    stream.on('trailers', read);
    stream.on('data', () => undefined);
    stream.on('error', () => undefined); // a reset after the answer: 'close' still reports it
    stream.on('close', () => {
      if (fields['grpc-status'] === undefined) return reject(new Error(`no grpc-status (HTTP/2 code ${stream.rstCode})`));
      const details = fields['grpc-message'];
      resolve({ code: Number(fields['grpc-status']), details: details === undefined ? null : decodeURIComponent(String(details)), fields, sentAllBeforeStatus: sentAllBeforeStatus ?? sentAll, sentAll });
    });
    stream.end(frame, () => (sentAll = true));
  });
}

/**
 * A plain-text HTTP/2 session, unbounded in memory as grpc-js's client makes it: with Node's default
 * (10 MB) a session still sending a big message resets every stream whose headers arrive meanwhile
 * (ENHANCE_YOUR_CALM), so an answer that comes before the request is all sent would be lost.
 */
export const connectGrpc = (target: string): ClientHttp2Session => connect(`http://${target}`, { maxSessionMemory: Number.MAX_SAFE_INTEGER });
