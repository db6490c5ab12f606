import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

/**
 * SHA-256 (hex) of a file, streamed: model files can be gigabytes. With `maxBytes`, at most that
 * many bytes and one more are read (a file that grew differs from its checksum anyway), so a path
 * that is not what it claims cannot keep the reader busy forever.
 */
export async function sha256File(path: string, maxBytes?: number): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, maxBytes === undefined ? {} : { start: 0, end: maxBytes }), hash);
  return hash.digest('hex');
}
