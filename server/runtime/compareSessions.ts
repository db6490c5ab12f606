import * as ort from 'onnxruntime-node';
import type { RuntimeTensor } from '../common/datatypes.js';
import { measureSpeedup, type SpeedupMeasurement } from '../measurement/measureSpeedup.js';

/** How long, and against which margin, two sessions are timed (see measureSpeedup). */
export interface TimingSpec {
  /** How many samples are timed (all are compared); the timed pairs cycle through them. */
  timedSamples: number;
  budgetMs: number;
  /** The speed-up the decision turns on: timing stops once the interval is wholly on one side of it. */
  margin: number;
}

export interface SessionComparison {
  /** Per sample, each session's outputs by name. */
  baseline: Record<string, RuntimeTensor>[];
  candidate: Record<string, RuntimeTensor>[];
  /** The candidate's speed-up over the baseline (a: baseline, b: candidate). */
  speed: SpeedupMeasurement;
}

const toOrt = (feeds: Record<string, RuntimeTensor>) =>
  Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor(t.type, t.data as ort.Tensor.DataType, t.dims)]));

function fromOrt(tensor: ort.Tensor): RuntimeTensor {
  const data = Array.isArray(tensor.data) ? (tensor.data as string[]) : (tensor.data as Float32Array).slice();
  return { type: tensor.type as RuntimeTensor['type'], dims: [...tensor.dims], data };
}

/**
 * Two sessions on the same inputs, in the calling thread: every sample through both (outputs
 * kept; also the warm-up, a session's first runs are slow), then timed pairs until the speed-up's
 * interval is narrow enough or decides the margin. The int8 gate compares two files this way, and
 * placement one file on two providers.
 */
export async function compareSessions(
  sessions: readonly [ort.InferenceSession, ort.InferenceSession],
  samples: Record<string, RuntimeTensor>[],
  outputNames: string[],
  timing: TimingSpec,
  checkStop?: () => void,
): Promise<SessionComparison> {
  const outputs: Record<string, RuntimeTensor>[][] = [[], []];
  const feeds = samples.map(toOrt);
  for (const feed of feeds) {
    for (const [i, session] of sessions.entries()) {
      checkStop?.();
      const result = await session.run(feed, outputNames);
      outputs[i]!.push(Object.fromEntries(outputNames.map((name) => [name, fromOrt(result[name]!)])));
    }
  }
  const timed = feeds.slice(0, Math.max(1, timing.timedSamples));
  const speed = await measureSpeedup({
    run: (which, pair) => sessions[which === 'a' ? 0 : 1].run(timed[pair % timed.length]!, outputNames),
    budgetMs: timing.budgetMs,
    margin: timing.margin,
    ...(checkStop ? { checkStop } : {}),
  });
  return { baseline: outputs[0]!, candidate: outputs[1]!, speed };
}
