/**
 * The limit: onnxruntime-node in-process at batch 1, one worker thread per core, each with its own
 * one-thread session (the fastest configuration measured here), for `seconds`. Prints JSON.
 */
import '../../server/runtime/disableOrtTelemetry.js'; // the workers' onnxruntime reads it from the process environment
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const [modelPath, inputName, shapeJson, secondsText] = process.argv.slice(2);
const shape = JSON.parse(shapeJson!) as number[];
const seconds = Number(secondsText);
const code = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(${JSON.stringify(new URL('../../node_modules/onnxruntime-node/dist/index.js', import.meta.url).pathname)});
(async () => {
  const s = await ort.InferenceSession.create(workerData.modelPath, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const n = workerData.shape.reduce((a, b) => a * b, 1);
  const feeds = { [workerData.inputName]: new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i)), workerData.shape) };
  for (let i = 0; i < 20; i++) await s.run(feeds);
  const end = Date.now() + workerData.seconds * 1000;
  let count = 0;
  while (Date.now() < end) { await s.run(feeds); count++; }
  parentPort.postMessage(count);
})();`;
const workers = availableParallelism();
const counts = await Promise.all(
  Array.from({ length: workers }, () => new Promise<number>((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { modelPath, inputName, shape, seconds } });
    worker.once('message', (count: number) => { resolve(count); void worker.terminate(); });
    worker.once('error', reject);
  })),
);
console.log(JSON.stringify({ rps: counts.reduce((a, b) => a + b, 0) / seconds, workers }));
