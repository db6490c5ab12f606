import './disableOrtTelemetry.js'; // before onnxruntime-node loads: see the file
import * as ort from 'onnxruntime-node';
import { encodeModel, onnx } from '../onnx/onnxModel.js';
import { startMemoryWatchdog } from './memoryWatchdog.js';
import { sessionOptions } from './OrtSessions.js';
import type { SessionCost } from './sessionCost.js';

/** Like a worker's session of a CPU plan's instance: one intra-op thread (threads' stacks count little). */
const MEASURED_SETTINGS = { executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1 };

/** One Identity node: creating a session of it initializes onnxruntime, which each process pays once. */
function warmUpModel(): Uint8Array {
  const value = (name: string) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } } } });
  return encodeModel(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'warm-up', input: [value('x')], output: [value('y')], node: [{ opType: 'Identity', input: ['x'], output: ['y'] }] },
  }));
}

const collectGarbage = () => (globalThis as { gc?: () => void }).gc?.();

/**
 * What one session of the file costs this process: its RSS growth from creating it, after
 * onnxruntime's own start-up (~27 MB once per process, paid by the server at its start) and after
 * the JavaScript garbage of checking the file is collected (`--expose-gc`). RSS, not onnxruntime's
 * own accounting: memory it frees while creating a session mostly stays with the process (glibc
 * keeps it), so the growth is what a session really takes from the machine. A 30,000-node chain of
 * Identity ops in a 1.3 MB file takes 73 MB this way; the file size says nothing about it.
 *
 * Stops the process (memoryWatchdog) once the growth passes `limitBytes`.
 */
export async function measureSessionCost(path: string, limitBytes: number): Promise<SessionCost> {
  const watchdog = await startMemoryWatchdog(limitBytes);
  try {
    const options = sessionOptions(MEASURED_SETTINGS, MEASURED_SETTINGS.executionProviders);
    await (await ort.InferenceSession.create(warmUpModel(), options)).release();
    collectGarbage();
    collectGarbage();
    const baseline = process.memoryUsage.rss();
    watchdog.arm(baseline);
    const started = performance.now();
    const session = await ort.InferenceSession.create(path, options);
    const loadMs = performance.now() - started;
    const sessionBytes = Math.max(0, process.memoryUsage.rss() - baseline);
    await session.release();
    return { sessionBytes, loadMs };
  } finally {
    await watchdog.stop();
  }
}
