import { dirname } from 'node:path';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * An error message about model files with their folders' absolute paths taken out: onnxruntime
 * names the file it could not load ("Load model from /srv/inferbox/models/m/3/model.onnx
 * failed", "External data path does not exist: \"/srv/…/weights.bin\""), and a caller (an HTTP or
 * gRPC answer, a version's status, a job's result, a quantization report) must not learn where
 * the data dir is. A path inside a file's folder becomes its name in that folder ("model.onnx",
 * "weights.bin"), the folder itself "the model folder". The server log keeps the whole message.
 */
export function withoutModelPaths(message: string, files: readonly string[]): string {
  let text = message;
  const folders = [...new Set(files.map((file) => dirname(file)))].sort((a, b) => b.length - a.length);
  for (const folder of folders) {
    if (folder === dirname(folder)) continue; // a root (`/`) would take every path apart
    // The folder, then a name in it or the end of the path (`/models/m/3` must not eat `/models/m/30`).
    const inside = new RegExp(`${escapeRegExp(folder)}(?:[\\\\/]([^\\s"'\`<>|]*)|(?![\\w-]))`, 'g');
    text = text.replace(inside, (_match, rest: string | undefined) => (rest ? rest : 'the model folder'));
  }
  return text;
}
