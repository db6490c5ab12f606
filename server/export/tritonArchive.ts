import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import type { ExportTarget } from './ExportTarget.js';
import { tritonConfig } from './tritonConfig.js';

/**
 * A Triton model repository for one version, as a .tar.gz stream:
 * `<model>/config.pbtxt` and `<model>/<version>/model.onnx` (Triton's layout: the config at the
 * model level, one numeric folder per version; `model.onnx` is the ONNX Runtime backend's default
 * file name). Unpack it into a `--model-repository` folder. The model file streams from disk.
 */
export async function tritonArchive(target: ExportTarget): Promise<Readable> {
  const { size } = await stat(target.file);
  const mtime = new Date(target.created_at);
  const tar = tarPack();
  const gzip = createGzip();
  const write = async () => {
    tar.entry({ name: `${target.model}/`, type: 'directory', mode: 0o755, mtime });
    tar.entry({ name: `${target.model}/config.pbtxt`, mode: 0o644, mtime }, tritonConfig(target));
    tar.entry({ name: `${target.model}/${target.version}/`, type: 'directory', mode: 0o755, mtime });
    const entry = tar.entry({ name: `${target.model}/${target.version}/model.onnx`, size, mode: 0o644, mtime });
    await pipeline(createReadStream(target.file), entry);
    tar.finalize();
  };
  write().catch((error: unknown) => tar.destroy(error as Error));
  tar.pipe(gzip);
  tar.on('error', (error) => gzip.destroy(error));
  return gzip;
}
