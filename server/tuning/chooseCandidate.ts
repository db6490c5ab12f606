import type { CandidateResult, CurvePoint } from './tuningProtocol.js';

/**
 * A candidate must beat the current serving by more than this to be chosen: two runs of the same
 * settings differ by a few percent here, and a change that is noise is not worth a reload.
 */
export const CHOICE_MARGIN = 0.03;

/** Where a curve meets the objective: the most throughput at any tested concurrency with p95 within it. */
export interface Capacity {
  rps: number;
  concurrency: number;
  p95_ms: number;
}

/** The curve's capacity for a p95 objective; null when no level met it (or every level had errors). */
export function capacityOf(curve: CurvePoint[], objectiveP95Ms: number): Capacity | null {
  let best: Capacity | null = null;
  for (const point of curve) {
    if (point.errors > 0 || point.rps === 0 || point.p95_ms > objectiveP95Ms) continue;
    if (!best || point.rps > best.rps) best = { rps: point.rps, concurrency: point.concurrency, p95_ms: point.p95_ms };
  }
  return best;
}

export interface Choice {
  id: string;
  /** What decided: capacity under the objective, or the lowest p95 at concurrency 1 without one. */
  by: 'capacity' | 'latency';
  /** The chosen candidate's capacity under the objective (null without an objective). */
  capacity: Capacity | null;
  /** Its p95 at concurrency 1, ms. */
  p95_at_1_ms: number | null;
  reason: string;
  /**
   * Whether a second measurement of the provisional choice and the current serving decided (true),
   * or the run had no time left for it (false); null when the current serving was the provisional choice.
   */
  confirmed: boolean | null;
}

const p95AtOne = (result: CandidateResult) => result.curve.find((p) => p.concurrency === 1 && p.errors === 0 && p.rps > 0)?.p95_ms ?? null;

/**
 * The tuner's choice (Model Analyzer's objective, one of its two modes): with a p95 objective,
 * the candidate with the most capacity within it; without one, the lowest p95 at concurrency 1.
 * The current serving stays unless another beats it by CHOICE_MARGIN, so the choice is never
 * below the current capacity and a re-run on an unchanged box does not flip it. The best of
 * single noisy measurements runs high (the winner's curse: on the 2-core VM one choice promised
 * 1118 requests/s and served 564), so when the run measured the provisional choice and the
 * current serving a second time, those two measurements alone decide, by the same rule, and the
 * prediction is the second one's. Null when nothing was measured.
 */
export function chooseCandidate(results: CandidateResult[], objectiveP95Ms: number | null): Choice | null {
  const provisional = choose(results.filter((r) => !r.confirmation), objectiveP95Ms);
  if (!provisional || provisional.id === 'current') return provisional && { ...provisional, confirmed: null };
  const again = results.filter((r) => r.confirmation && (r.id === 'current' || r.id === provisional.id));
  if (again.length < 2) return { ...provisional, confirmed: false, reason: `${provisional.reason}; not measured a second time (the time budget ran out)` };
  const decided = choose(again, objectiveP95Ms)!;
  const note = decided.id === 'current' ? `a second measurement did not confirm '${provisional.id}' (${provisional.reason})` : 'confirmed by a second measurement of it and the current serving';
  return { ...decided, confirmed: true, reason: `${decided.reason}; ${note}` };
}

type Decision = Omit<Choice, 'confirmed'>;

function choose(results: CandidateResult[], objectiveP95Ms: number | null): Decision | null {
  const measured = results.filter((r) => r.error === null && r.curve.length > 0);
  const current = measured.find((r) => r.id === 'current');
  if (objectiveP95Ms !== null) {
    const scored = measured.map((r) => ({ r, capacity: capacityOf(r.curve, objectiveP95Ms) }));
    const currentCapacity = scored.find((s) => s.r.id === 'current')?.capacity?.rps ?? 0;
    const best = scored.reduce<(typeof scored)[number] | null>((a, b) => ((b.capacity?.rps ?? 0) > (a?.capacity?.rps ?? 0) ? b : a), null);
    if (!best?.capacity) {
      return current ? { id: 'current', by: 'capacity', capacity: null, p95_at_1_ms: p95AtOne(current), reason: `no candidate kept p95 within ${objectiveP95Ms} ms at any tested concurrency` } : null;
    }
    if (current && best.capacity.rps <= currentCapacity * (1 + CHOICE_MARGIN)) {
      const own = scored.find((s) => s.r.id === 'current')!.capacity;
      return { id: 'current', by: 'capacity', capacity: own, p95_at_1_ms: p95AtOne(current), reason: `no candidate adds more than ${CHOICE_MARGIN * 100}% capacity within p95 ${objectiveP95Ms} ms` };
    }
    const gain = currentCapacity > 0 ? ` (${(best.capacity.rps / currentCapacity).toFixed(2)}× the current ${Math.round(currentCapacity)})` : '';
    return { id: best.r.id, by: 'capacity', capacity: best.capacity, p95_at_1_ms: p95AtOne(best.r), reason: `most capacity within p95 ${objectiveP95Ms} ms: ${Math.round(best.capacity.rps)} requests/s at concurrency ${best.capacity.concurrency}${gain}` };
  }
  const scored = measured.map((r) => ({ r, p95: p95AtOne(r) })).filter((s): s is { r: CandidateResult; p95: number } => s.p95 !== null);
  if (scored.length === 0) return null;
  const best = scored.reduce((a, b) => (b.p95 < a.p95 ? b : a));
  const currentP95 = scored.find((s) => s.r.id === 'current')?.p95;
  if (currentP95 !== undefined && currentP95 <= best.p95 * (1 + CHOICE_MARGIN)) {
    return { id: 'current', by: 'latency', capacity: null, p95_at_1_ms: currentP95, reason: `no objective set; no candidate lowers p95 at concurrency 1 by more than ${CHOICE_MARGIN * 100}%` };
  }
  return { id: best.r.id, by: 'latency', capacity: null, p95_at_1_ms: best.p95, reason: `no objective set: the lowest p95 at concurrency 1 (${best.p95.toFixed(2)} ms${currentP95 !== undefined ? ` against ${currentP95.toFixed(2)} ms now` : ''})` };
}
