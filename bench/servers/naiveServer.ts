/**
 * The naive baseline of `npm run bench`: Koa + onnxruntime-node, one request = one session.run on
 * the HTTP thread, JSON only, no auth, no batching. Started as its own process; prints its port.
 */
import Koa from 'koa';
import getRawBody from 'raw-body';
import '../../server/runtime/disableOrtTelemetry.js'; // onnxruntime's telemetry off before it loads
import * as ort from 'onnxruntime-node';

const [modelPath] = process.argv.slice(2);
const session = await ort.InferenceSession.create(modelPath!, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
const app = new Koa();
app.use(async (ctx) => {
  const body = JSON.parse((await getRawBody(ctx.req)).toString()) as { inputs: { name: string; shape: number[]; data: number[] }[] };
  const feeds = Object.fromEntries(body.inputs.map((i) => [i.name, new ort.Tensor('float32', Float32Array.from(i.data.flat(Infinity) as number[]), i.shape)]));
  const results = await session.run(feeds);
  ctx.body = { outputs: Object.entries(results).map(([name, t]) => ({ name, datatype: 'FP32', shape: t.dims, data: Array.from(t.data as ArrayLike<number | bigint>, Number) })) };
});
const server = app.listen(0, '127.0.0.1', () => console.log(`PORT ${(server.address() as { port: number }).port}`));
