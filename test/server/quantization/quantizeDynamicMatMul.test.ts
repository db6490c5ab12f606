import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import '../../../server/runtime/disableOrtTelemetry.js'; // onnxruntime's telemetry off before it loads
import * as ort from 'onnxruntime-node';
import { buildMlpStack } from '../../../models/lib/mlpStack.js';
import { attr, buildModel, tensorBytes } from '../../../models/lib/onnxGraph.js';
import { mulberry32 } from '../../../server/common/mulberry32.js';
import { DataType, decodeModel, encodeModel, onnx } from '../../../server/onnx/onnxModel.js';
import { quantizeDynamicMatMul } from '../../../server/quantization/quantizeDynamicMatMul.js';
import { WEIGHT_LEVELS, quantizeWeightsPerColumn } from '../../../server/quantization/quantizeWeights.js';
import { addModel } from '../../fixtures/onnxModels.js';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'inferbox-quant-')); });
after(() => rm(dir, { recursive: true, force: true }));

const SMALL_STACK = { layers: 2, hidden: 64, inner: 256, tokens: 8, seed: 3 };

async function session(bytes: Uint8Array, name: string, optimizedPath?: string): Promise<ort.InferenceSession> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return ort.InferenceSession.create(path, { intraOpNumThreads: 1, graphOptimizationLevel: 'all', ...(optimizedPath ? { optimizedModelFilePath: optimizedPath } : {}) });
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i]! * b[i]!; na += a[i]! ** 2; nb += b[i]! ** 2; }
  return dot / Math.sqrt(na * nb);
}

const opsOf = (bytes: Uint8Array) => (decodeModel(bytes).graph!.node ?? []).map((n) => n.opType);

describe('quantizeWeightsPerColumn', () => {
  test('symmetric per column in 7 bits: the largest magnitude of each column maps to ±63 (no 16-bit saturation on CPUs without VNNI)', () => {
    const w = new Float32Array([1.1, -0.5, -2, 0.2, 0.5, 0]); // [3, 2]
    const { values, scales } = quantizeWeightsPerColumn(w, 3, 2);
    assert.equal(WEIGHT_LEVELS, 63);
    assert.deepEqual(Array.from(scales), [2 / 63, 0.5 / 63].map((s) => Math.fround(s)));
    assert.deepEqual(Array.from(values), [35, -63, -63, 25, 16, 0]);
  });
});

describe('quantizeDynamicMatMul', () => {
  test('MatMuls become the ORT dynamic pattern, ORT fuses it, outputs stay within the gate', async () => {
    const fp32 = buildMlpStack(SMALL_STACK);
    const result = quantizeDynamicMatMul(fp32);
    assert.equal(result.reason, null);
    assert.equal(result.quantized.length, 4);
    const ops = opsOf(result.bytes!);
    assert.equal(ops.filter((op) => op === 'MatMul').length, 0);
    assert.equal(ops.filter((op) => op === 'MatMulInteger').length, 4);
    assert.equal(ops.filter((op) => op === 'DynamicQuantizeLinear').length, 4);
    assert.ok(result.bytes!.length < fp32.length / 3.5, `int8 file ${result.bytes!.length} vs fp32 ${fp32.length}`);

    const optimized = join(dir, 'stack.int8.optimized.onnx');
    const [a, b] = [await session(fp32, 'stack.onnx'), await session(result.bytes!, 'stack.int8.onnx', optimized)];
    const fusedOps = opsOf(await readFile(optimized));
    assert.equal(fusedOps.filter((op) => op === 'DynamicQuantizeMatMul').length, 4, `ORT fused the pattern: ${fusedOps.join(',')}`);

    const random = mulberry32(11);
    const x = new ort.Tensor('float32', Float32Array.from({ length: 8 * 64 }, () => random() * 2 - 1), [1, 8, 64]);
    const [ya, yb] = [(await a.run({ x })).y!.data as Float32Array, (await b.run({ x })).y!.data as Float32Array];
    assert.ok(cosine(ya, yb) >= 0.995, `cosine ${cosine(ya, yb)}`);
  });

  test('Gemm with transB and bias, and one weight shared by two MatMuls', async () => {
    const random = mulberry32(5);
    const w = Float32Array.from({ length: 6 * 4 }, () => random() - 0.5);
    const fp32 = buildModel({
      inputs: [{ name: 'x', type: 'float32', shape: ['n', 4] }],
      outputs: [{ name: 'g', type: 'float32', shape: ['n', 6] }, { name: 'm2', type: 'float32', shape: ['n', 4] }],
      initializers: [
        { name: 'wt', type: 'float32', dims: [6, 4], data: w },
        { name: 'c', type: 'float32', dims: [6], data: Float32Array.from({ length: 6 }, () => random()) },
        { name: 'shared', type: 'float32', dims: [4, 4], data: Float32Array.from({ length: 16 }, () => random() - 0.5) },
      ],
      nodes: [
        { op: 'Gemm', inputs: ['x', 'wt', 'c'], outputs: ['g'], attributes: { transB: attr.int(1) } },
        { op: 'MatMul', inputs: ['x', 'shared'], outputs: ['m1'] },
        { op: 'MatMul', inputs: ['m1', 'shared'], outputs: ['m2'] },
      ],
    });
    const result = quantizeDynamicMatMul(fp32);
    assert.deepEqual(result.quantized.length, 3);
    const model = decodeModel(result.bytes!);
    const names = (model.graph!.initializer ?? []).map((t) => t.name);
    assert.equal(names.filter((n) => n === 'shared_quantized').length, 1, 'a shared weight is quantized once');
    assert.ok(!names.includes('wt') && !names.includes('shared'), 'float weights are dropped');
    assert.equal(opsOf(result.bytes!).filter((op) => op === 'DynamicQuantizeLinear').length, 2, 'x is quantized once for its two consumers');
    const [a, b] = [await session(fp32, 'gemm.onnx'), await session(result.bytes!, 'gemm.int8.onnx')];
    const x = new ort.Tensor('float32', Float32Array.from({ length: 3 * 4 }, () => random() * 2 - 1), [3, 4]);
    const [ra, rb] = [await a.run({ x }), await b.run({ x })];
    for (const name of ['g', 'm2']) assert.ok(cosine(ra[name]!.data as Float32Array, rb[name]!.data as Float32Array) > 0.995, name);
  });

  test('opset < 11 with Constant-node weights (as PaddleOCR exports): the fused contrib op, com.microsoft imported', async () => {
    const random = mulberry32(8);
    const weights = Float32Array.from({ length: 8 * 5 }, () => random() - 0.5);
    const old = decodeModel(buildModel({
      opset: 9,
      irVersion: 4,
      inputs: [{ name: 'x', type: 'float32', shape: ['n', 8] }],
      outputs: [{ name: 'y', type: 'float32', shape: ['n', 5] }],
      nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
    }));
    old.graph!.node!.unshift({ opType: 'Constant', output: ['w'], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: [8, 5], dataType: DataType.FLOAT, rawData: tensorBytes('float32', weights) } }] });
    const fp32 = encodeModel(old);
    const result = quantizeDynamicMatMul(fp32);
    const model = decodeModel(result.bytes!);
    assert.deepEqual(model.graph!.node!.map((n) => `${n.domain || 'ai.onnx'}.${n.opType}`), ['com.microsoft.DynamicQuantizeMatMul'], 'the Constant weight went with its MatMul');
    assert.ok(model.opsetImport.some((o) => o.domain === 'com.microsoft'));
    const [a, b] = [await session(fp32, 'old.onnx'), await session(result.bytes!, 'old.int8.onnx')];
    const x = new ort.Tensor('float32', Float32Array.from({ length: 2 * 8 }, () => random() * 2 - 1), [2, 8]);
    assert.ok(cosine((await a.run({ x })).y!.data as Float32Array, (await b.run({ x })).y!.data as Float32Array) > 0.995);
  });

  test('nothing to quantize and odd Gemms are skipped with reasons; com.microsoft only when used', () => {
    assert.match(quantizeDynamicMatMul(addModel()).reason ?? '', /no MatMul or Gemm/);
    const modern = quantizeDynamicMatMul(buildMlpStack(SMALL_STACK));
    assert.ok(!decodeModel(modern.bytes!).opsetImport.some((o) => o.domain === 'com.microsoft'));
    const scaled = buildModel({
      inputs: [{ name: 'x', type: 'float32', shape: ['n', 2] }],
      outputs: [{ name: 'y', type: 'float32', shape: ['n', 2] }, { name: 'z', type: 'float32', shape: ['n', 2] }],
      initializers: [{ name: 'w', type: 'float32', dims: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
      nodes: [
        { op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], attributes: { alpha: attr.float(2) } },
        { op: 'MatMul', inputs: ['x', 'x2'], outputs: ['z'] },
      ],
    });
    const result = quantizeDynamicMatMul(scaled);
    assert.equal(result.bytes, null);
    assert.deepEqual(result.skipped.map((s) => s.reason), ['Gemm with alpha or beta other than 1', 'the weight is computed at run time, not a constant initializer']);
  });

  test('opset 11 takes the standard pattern; a weight kept in external data is skipped with its reason', () => {
    const at11 = decodeModel(buildMlpStack(SMALL_STACK));
    at11.opsetImport = [{ domain: '', version: 11 }];
    const result = quantizeDynamicMatMul(encodeModel(at11));
    assert.equal(opsOf(result.bytes!).filter((op) => op === 'MatMulInteger').length, 4);
    const external = buildModel({
      inputs: [{ name: 'x', type: 'float32', shape: ['n', 3] }],
      outputs: [{ name: 'y', type: 'float32', shape: ['n', 1] }],
      initializers: [{ name: 'w', type: 'float32', dims: [3, 1], data: new Float32Array(3), external: { location: 'w.bin' } }],
      nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
    });
    const skipped = quantizeDynamicMatMul(external);
    assert.equal(skipped.bytes, null);
    assert.deepEqual(skipped.skipped.map((s) => s.reason), ['the weight data is external or malformed']);
  });

  test('weights that are graph outputs stay, new names never collide, an [M,N] bias keeps its own Add', async () => {
    const random = mulberry32(13);
    const w = Float32Array.from({ length: 4 * 3 }, () => random() - 0.5);
    const fp32 = buildModel({
      opset: 9,
      irVersion: 4,
      inputs: [{ name: 'x', type: 'float32', shape: [2, 4] }],
      outputs: [{ name: 'y', type: 'float32', shape: [2, 3] }, { name: 'w', type: 'float32', shape: [4, 3] }, { name: 'x_quantized', type: 'float32', shape: [2, 4] }],
      initializers: [
        { name: 'w', type: 'float32', dims: [4, 3], data: w },
        { name: 'c', type: 'float32', dims: [2, 3], data: Float32Array.from({ length: 6 }, () => random()) },
      ],
      nodes: [
        { op: 'Gemm', inputs: ['x', 'w', 'c'], outputs: ['y'] },
        { op: 'Identity', inputs: ['x'], outputs: ['x_quantized'] },
      ],
    });
    const result = quantizeDynamicMatMul(fp32);
    assert.equal(result.reason, null);
    const ops = opsOf(result.bytes!);
    assert.deepEqual(ops.filter((op) => op !== 'Identity'), ['DynamicQuantizeMatMul', 'Add'], 'the 2-D bias is added after the fused op');
    const [a, b] = [await session(fp32, 'edge.onnx'), await session(result.bytes!, 'edge.int8.onnx')];
    const x = new ort.Tensor('float32', Float32Array.from({ length: 8 }, () => random() * 2 - 1), [2, 4]);
    const [ra, rb] = [await a.run({ x }), await b.run({ x })];
    assert.deepEqual(Array.from(rb.w!.data as Float32Array), Array.from(ra.w!.data as Float32Array), 'the weight output is still there');
    assert.ok(cosine(ra.y!.data as Float32Array, rb.y!.data as Float32Array) > 0.995);

    // At opset 17 the pattern path names DynamicQuantizeLinear's outputs after x: 'x_quantized' is taken.
    const modern = decodeModel(fp32);
    modern.opsetImport = [{ domain: '', version: 17 }];
    modern.irVersion = 8;
    const patterned = quantizeDynamicMatMul(encodeModel(modern));
    const p = await session(patterned.bytes!, 'edge17.int8.onnx');
    const rp = await p.run({ x });
    assert.deepEqual(Array.from(rp.x_quantized!.data as Float32Array), Array.from(x.data as Float32Array), 'the existing x_quantized is untouched');
  });

  test('a model the quantizer does not change can round-trip through decode/encode unchanged', () => {
    const bytes = addModel();
    assert.deepEqual(encodeModel(decodeModel(bytes)), bytes);
  });
});
