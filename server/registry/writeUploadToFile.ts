import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, Writable, type Readable } from 'node:stream';
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
  // A full disk does not stop the pipeline: the rest of the body is read and discarded, so a
  // client still sending reads the 507 instead of a reset connection (the partial file is removed).
  let diskFull: unknown = null;
  const file = createWriteStream(path, { mode: 0o600 });
  const fileError = new Promise<unknown>((resolve) => file.once('error', resolve));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (diskFull) { callback(); return; }
      file.write(chunk, (error) => {
        if (error && isDiskFull(error)) { diskFull = error; callback(); }
        else callback(error ?? null);
      });
    },
    final(callback) {
      if (diskFull) { file.destroy(); callback(); return; }
      file.end(() => callback());
      void fileError.then((error) => callback(error as Error));
    },
    destroy(error, callback) { file.destroy(); callback(error); },
  });
  try {
    await pipeline(source, meter, sink);
    if (diskFull) throw diskFull;
  } catch (error) {
    // The file stream is not part of the pipeline, so wait for it to close (it opens lazily: a
    // late open after the rm would leave the file behind) before removing the partial file.
    if (!file.closed) {
      const closed = once(file, 'close');
      file.destroy();
      await closed;
    }
    await rm(path, { force: true });
    if (error instanceof InferboxError) throw error;
    if (isDiskFull(error)) throw new InferboxError('IBX_ERR_DISK_FULL', ['store the uploaded model'], { cause: error });
    throw inferboxError('IBX_ERR_INVALID_REQUEST', `the upload did not complete: ${(error as Error).message}`);
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}
