/**
 * `npm run simulate:ab`: simulated experiments through the real routing hash and statistics (no
 * HTTP), to show what the always-valid method buys. Every experiment splits units `u0, u1, …` with
 * `assignVariant` under its own random seed, draws conversions, and is looked at 50 times, evenly
 * spaced. An A/A experiment is a false positive if a p-value falls below alpha at ANY look —
 * admins look whenever they like — which is exactly what the always-valid p-value allows and the
 * fixed-horizon p-value does not. Power counts A/B experiments the always-valid test rejects at any
 * look (it may stop there). Reproducible: one mulberry32 stream from SETTINGS.seed drives
 * everything. The last line is one JSON object for scripts.
 */
import { mulberry32 } from '../server/common/mulberry32.js';
import { assignVariant } from '../server/experiments/hashing.js';
import { compareMetric, sequentialGuardrail, type MetricSample } from '../server/experiments/statistics/index.js';

const SETTINGS = {
  /** Expected units per arm; 50/50 weights, so twice this many units arrive. */
  unitsPerArm: 20_000,
  looks: 50,
  /** Experiments of each kind (A/A and A/B). */
  experiments: 500,
  baseRate: 0.1,
  treatmentRate: 0.115,
  alpha: 0.05,
  seed: 20261101,
};

const WEIGHTS = [0.5, 0.5];

interface ExperimentOutcome {
  alwaysValidAnyLook: boolean;
  naiveAnyLook: boolean;
  fixedFinalLook: boolean;
  guardrailAnyLook: boolean;
  /** Units (both arms) at the first look where the always-valid test rejected, or null. */
  stoppedAtUnits: number | null;
}

function simulateExperiment(random: () => number, rates: number[]): ExperimentOutcome {
  const seed = `sim-${Math.floor(random() * 2 ** 32).toString(16)}`;
  const totalUnits = SETTINGS.unitsPerArm * WEIGHTS.length;
  const arms: MetricSample[] = WEIGHTS.map(() => ({ units: 0, sum: 0, sumSquares: 0 }));
  const outcome: ExperimentOutcome = { alwaysValidAnyLook: false, naiveAnyLook: false, fixedFinalLook: false, guardrailAnyLook: false, stoppedAtUnits: null };
  let unit = 0;
  for (let look = 1; look <= SETTINGS.looks; look++) {
    for (const end = Math.round((look * totalUnits) / SETTINGS.looks); unit < end; unit++) {
      const variant = assignVariant(seed, `u${unit}`, WEIGHTS);
      const arm = arms[variant]!;
      const converted = random() < rates[variant]! ? 1 : 0;
      arm.units += 1;
      arm.sum += converted;
      arm.sumSquares += converted; // 0/1 values: value² = value
    }
    const result = compareMetric(arms[0]!, arms[1]!, { alpha: SETTINGS.alpha });
    if (result.sequential.pValue < SETTINGS.alpha && !outcome.alwaysValidAnyLook) {
      outcome.alwaysValidAnyLook = true;
      outcome.stoppedAtUnits = unit;
    }
    if (result.pValue < SETTINGS.alpha) outcome.naiveAnyLook = true;
    if (look === SETTINGS.looks) outcome.fixedFinalLook = result.pValue < SETTINGS.alpha;
    // Conversion as a guardrail outcome metric: lower is worse.
    if (sequentialGuardrail(arms[0]!, arms[1]!, { alpha: SETTINGS.alpha, higherIsWorse: false }).breached) outcome.guardrailAnyLook = true;
  }
  return outcome;
}

function rate(outcomes: ExperimentOutcome[], pick: (o: ExperimentOutcome) => boolean): number {
  return outcomes.filter(pick).length / outcomes.length;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const started = performance.now();
const random = mulberry32(SETTINGS.seed);
const aa = Array.from({ length: SETTINGS.experiments }, () => simulateExperiment(random, [SETTINGS.baseRate, SETTINGS.baseRate]));
const ab = Array.from({ length: SETTINGS.experiments }, () => simulateExperiment(random, [SETTINGS.baseRate, SETTINGS.treatmentRate]));
const seconds = (performance.now() - started) / 1000;

const round = (x: number) => Math.round(x * 10_000) / 10_000;
const summary = {
  aa_false_positive_rate: round(rate(aa, (o) => o.alwaysValidAnyLook)),
  naive_peeking_false_positive_rate: round(rate(aa, (o) => o.naiveAnyLook)),
  power: round(rate(ab, (o) => o.alwaysValidAnyLook)),
  effect_size: round(SETTINGS.treatmentRate - SETTINGS.baseRate),
  units_per_arm: SETTINGS.unitsPerArm,
  looks: SETTINGS.looks,
  experiments: SETTINGS.experiments,
};

const percent = (x: number) => `${(100 * x).toFixed(1)} %`.padStart(9);
const stoppedAt = median(ab.flatMap((o) => (o.stoppedAtUnits === null ? [] : [o.stoppedAtUnits / WEIGHTS.length])));
console.log(`A/B simulation: ${SETTINGS.experiments} A/A + ${SETTINGS.experiments} A/B experiments, ${SETTINGS.unitsPerArm} units per arm, ${SETTINGS.looks} looks, conversion ${SETTINGS.baseRate} vs ${SETTINGS.treatmentRate}, alpha ${SETTINGS.alpha}, seed ${SETTINGS.seed}`);
console.log('');
console.log('test (rejects when p < alpha)              A/A: false positives   A/B: rejections');
console.log(`always-valid (sequential), at any look     ${percent(summary.aa_false_positive_rate)}              ${percent(summary.power)}   <- power`);
console.log(`naive fixed-horizon, at any look (peeking) ${percent(summary.naive_peeking_false_positive_rate)}              ${percent(rate(ab, (o) => o.naiveAnyLook))}`);
console.log(`fixed-horizon, final look only             ${percent(rate(aa, (o) => o.fixedFinalLook))}              ${percent(rate(ab, (o) => o.fixedFinalLook))}`);
console.log(`one-sided sequential guardrail, any look   ${percent(rate(aa, (o) => o.guardrailAnyLook))}              ${percent(rate(ab, (o) => o.guardrailAnyLook))}   (treatment worse; A/B is better)`);
console.log('');
console.log(`A/B experiments stopped by the always-valid test: median ${stoppedAt ?? '-'} units per arm at the first rejecting look; ${seconds.toFixed(1)} s`);
console.log(JSON.stringify(summary));
