import { Busboy, type BusboyInstance } from '@fastify/busboy';
import { inferboxError, messageOf } from '../common/errors.js';
import type { IncomingMessage } from 'node:http';
import { readRawBody } from './readBody.js';

/** A form's text fields and files, each name given once. */
export interface MultipartForm {
  fields: Record<string, string>;
  files: Record<string, Buffer>;
}

/** A form is a row of features plus its images; more parts than this is not a row. */
const MAX_PARTS = 1000;

/**
 * Reads a multipart/form-data body (RFC 7578) whole, up to `limit` bytes (413 beyond it, as every
 * body), and splits it with busboy. A malformed body or a name given twice is a 400.
 */
export async function readMultipartForm(req: IncomingMessage, limit: number): Promise<{ form: MultipartForm; bytes: number }> {
  const raw = await readRawBody(req, limit);
  const form: MultipartForm = { fields: Object.create(null) as Record<string, string>, files: Object.create(null) as Record<string, Buffer> };
  const taken = (name: string) => Object.hasOwn(form.fields, name) || Object.hasOwn(form.files, name);
  const problems: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let parser: BusboyInstance;
    try {
      parser = Busboy({ headers: { 'content-type': req.headers['content-type'] ?? '' }, limits: { parts: MAX_PARTS, fieldSize: limit, fileSize: limit } });
    } catch (error) {
      reject(inferboxError('IBX_ERR_INVALID_REQUEST', `multipart/form-data: ${messageOf(error)}`));
      return;
    }
    parser.on('field', (name, value) => {
      if (taken(name)) problems.push(`'${name}' is given more than once`);
      form.fields[name] = value;
    });
    parser.on('file', (name, stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (taken(name)) problems.push(`'${name}' is given more than once`);
        form.files[name] = Buffer.concat(chunks);
      });
    });
    parser.on('partsLimit', () => problems.push(`more than ${MAX_PARTS} parts`));
    parser.on('error', (error) => reject(inferboxError('IBX_ERR_INVALID_REQUEST', `multipart/form-data: ${messageOf(error)}`)));
    parser.on('finish', () => resolve());
    parser.end(raw);
  });
  if (problems.length > 0) throw inferboxError('IBX_ERR_INVALID_REQUEST', `multipart/form-data: ${problems.join('; ')}`);
  return { form, bytes: raw.length };
}
