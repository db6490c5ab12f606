import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inferboxError, InferboxError } from '../common/errors.js';
import { isDiskFull } from '../common/isDiskFull.js';

/**
 * Streams an upload to `path`, hashing as it goes and stopping at `maxBytes` (413), so a large
 * model never sits whole in memory and an oversized one never fills the disk. On any failure the
 * partial file is removed; a disk that fills up meanwhile is a 507, not the client's fault.
 */
export async function writeUploadToFile(source: Readable, path: string, maxBytes: number): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sizeBytes += chunk.length;
      if (sizeBytes > maxBytes) {
        callback(inferboxError('IBX_ERR_BODY_TOO_LARGE', String(maxBytes)));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(source, meter, createWriteStream(path, { mode: 0o600 }));
  } catch (error) {
    await rm(path, { force: true });
    if (error instanceof InferboxError) throw error;
    if (isDiskFull(error)) throw new InferboxError('IBX_ERR_DISK_FULL', ['store the uploaded model'], { cause: error });
    throw inferboxError('IBX_ERR_INVALID_REQUEST', `the upload did not complete: ${(error as Error).message}`);
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}
