import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import type { ExportTarget } from './ExportTarget.js';
import { serviceName } from './serviceName.js';
import { tritonConfig } from './tritonConfig.js';

/**
 * A Triton model repository for one version, as a .tar.gz stream: `<repository>/<model>/config.pbtxt`
 * and `<repository>/<model>/<version>/model.onnx` (Triton's layout: the config at the model level,
 * one numeric folder per version; `model.onnx` is the ONNX Runtime backend's default file name).
 * `<repository>` is the export's own folder, named like its KServe service (`<model>-v<version>`):
 * it is the `--model-repository` for Triton and the folder the KServe manifest's `storageUri` names,
 * so two exports unpacked side by side never share a repository (Triton would load both versions
 * of a model found in one folder). The model file streams from disk.
 */
export async function tritonArchive(target: ExportTarget): Promise<Readable> {
  const { size } = await stat(target.file);
  const mtime = new Date(target.created_at);
  const repository = serviceName(target.model, target.version);
  const model = `${repository}/${target.model}`;
  const tar = tarPack();
  const gzip = createGzip();
  const write = async () => {
    tar.entry({ name: `${repository}/`, type: 'directory', mode: 0o755, mtime });
    tar.entry({ name: `${model}/`, type: 'directory', mode: 0o755, mtime });
    tar.entry({ name: `${model}/config.pbtxt`, mode: 0o644, mtime }, tritonConfig(target));
    tar.entry({ name: `${model}/${target.version}/`, type: 'directory', mode: 0o755, mtime });
    const entry = tar.entry({ name: `${model}/${target.version}/model.onnx`, size, mode: 0o644, mtime });
    await pipeline(createReadStream(target.file), entry);
    tar.finalize();
  };
  write().catch((error: unknown) => tar.destroy(error as Error));
  tar.pipe(gzip);
  tar.on('error', (error) => gzip.destroy(error));
  return gzip;
}
