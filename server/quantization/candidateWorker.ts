/**
 * Builds the int8 candidate of a model off the HTTP thread: reading, rewriting and encoding a
 * large ModelProto takes a noticeable fraction of a second per 100 MB.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { quantizeDynamicMatMul } from './quantizeDynamicMatMul.js';
import type { CandidateReply, CandidateRequest } from './makeInt8Candidate.js';

const { sourcePath, targetPath } = workerData as CandidateRequest;

async function build(): Promise<CandidateReply> {
  const result = quantizeDynamicMatMul(await readFile(sourcePath));
  if (!result.bytes) return { ok: true, written: false, quantized: result.quantized, skipped: result.skipped, convNodes: result.convNodes, reason: result.reason };
  // Written beside the final name and renamed, so a reader never sees half a file.
  const temp = `${targetPath}.tmp`;
  try {
    await writeFile(temp, result.bytes, { mode: 0o600 });
    await rename(temp, targetPath);
  } catch (error) {
    await rm(temp, { force: true }); // a full disk leaves a truncated file otherwise
    throw error;
  }
  return { ok: true, written: true, quantized: result.quantized, skipped: result.skipped, convNodes: result.convNodes, reason: null };
}

build().then(
  (reply) => parentPort!.postMessage(reply),
  (error: unknown) => parentPort!.postMessage({
    ok: false,
    error: error instanceof Error ? error.message : String(error),
    code: typeof (error as { code?: unknown } | null)?.code === 'string' ? (error as { code: string }).code : null,
  } satisfies CandidateReply),
);
