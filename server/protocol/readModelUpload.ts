import type { Readable } from 'node:stream';
import { Busboy, type BusboyHeaders } from '@fastify/busboy';
import { inferboxError, messageOf } from '../common/errors.js';
import type { AppContext } from './AppContext.js';

/** The JSON part is small (labels, metrics, an experiment): held in memory, the model never is. */
const METADATA_LIMIT = 64 * 1024;
const FORM = "send a multipart/form-data body with 'metadata' (JSON, optional) and 'model' (the ONNX file)";

export interface UploadHandlers<U, M> {
  /** Streams the file part to disk (the registry's `receiveUpload`). */
  receive: (file: Readable) => Promise<U>;
  /** Removes a received file when the request fails after all. */
  discard: (upload: U) => Promise<void>;
  /** Validates the metadata part when it arrives, so a bad one fails before a large file is read. */
  parseMetadata: (text: string) => M;
}

/**
 * `metadata` is always read as a text field, also when it comes as a file part: `curl -F
 * metadata=@meta.json` (the README's command) sends it with `filename="meta.json"` and a content
 * type, `-F "metadata=<meta.json"` without. Either way it is the same JSON, held in memory under
 * the same 64 KiB limit and validated the same. Other parts follow busboy's rule (a file name or
 * `application/octet-stream` makes a file).
 */
function isPartAFile(name: string | undefined, contentType: string | undefined, fileName: string | undefined): boolean {
  if (name === 'metadata') return false;
  return contentType === 'application/octet-stream' || fileName !== undefined;
}

/**
 * Reads a `multipart/form-data` model upload (what `curl -F metadata=@meta.json -F model=@model.onnx`
 * sends): at most one `metadata` part (a field or a file) and exactly one `model` file, in either order. The file
 * streams to disk as it arrives; the first problem ends the request with a 400 and removes it.
 */
export async function readModelUpload<U, M>(ctx: AppContext, handlers: UploadHandlers<U, M>): Promise<{ upload: U; metadata: M | undefined }> {
  let parser;
  try {
    parser = Busboy({ headers: ctx.req.headers as BusboyHeaders, isPartAFile, limits: { files: 1, fields: 1, parts: 2, fieldSize: METADATA_LIMIT } });
  } catch (error) {
    throw inferboxError('IBX_ERR_INVALID_REQUEST', `${messageOf(error)}; ${FORM}`);
  }
  let received: Promise<U> | undefined;
  let file: Readable | undefined;
  let metadata: M | undefined;
  let failed = false;
  let reject!: (error: unknown) => void;
  const aborted = new Promise<never>((_, r) => { reject = r; });
  const abort = (error: unknown) => {
    failed = true;
    // A file still being written ends here (the registry removes the partial file); the no-op
    // listener keeps the error from surfacing when the write had already finished.
    file?.on('error', () => undefined).destroy(new Error('the upload was refused'));
    reject(error);
  };
  const invalid = (why: string) => abort(inferboxError('IBX_ERR_INVALID_REQUEST', `${why}; ${FORM}`));
  const finished = new Promise<void>((resolve) => parser.on('finish', resolve));

  parser.on('error', (error: unknown) => invalid(`malformed multipart body (${messageOf(error)})`));
  parser.on('partsLimit', () => invalid('too many parts'));
  parser.on('filesLimit', () => invalid('more than one file'));
  parser.on('fieldsLimit', () => invalid('more than one field'));
  parser.on('field', (name, value, _nameTruncated, valueTruncated) => {
    if (name !== 'metadata') return invalid(`unexpected field '${name}'`);
    if (valueTruncated) return invalid(`the metadata part is larger than ${METADATA_LIMIT} bytes`);
    try {
      metadata = handlers.parseMetadata(value);
    } catch (error) {
      abort(error);
    }
  });
  parser.on('file', (name, stream) => {
    // Parts the parser had buffered still come after a refusal: read and dropped, never stored.
    if (failed) return stream.resume();
    if (name !== 'model') {
      stream.resume();
      return invalid(`unexpected file part '${name}'`);
    }
    file = stream;
    received = handlers.receive(stream);
    received.catch(abort);
  });
  ctx.req.pipe(parser);

  try {
    await Promise.race([finished, aborted]);
    if (!received) throw inferboxError('IBX_ERR_INVALID_REQUEST', `the 'model' part is missing; ${FORM}`);
    return { upload: await received, metadata };
  } catch (error) {
    ctx.req.unpipe(parser);
    ctx.req.resume(); // drain the rest, so the error answer reaches the client
    if (received) await received.then(handlers.discard, () => undefined);
    throw error;
  }
}
