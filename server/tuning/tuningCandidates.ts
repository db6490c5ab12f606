import type { Precision } from '../common/SessionKey.js';
import type { TuningCandidate } from './tuningProtocol.js';

/** What the candidates are made from: how the version is served now, and what this box offers. */
export interface CandidateBasis {
  /** The version's serving now (the admin's settings over the defaults, its served precision and provider). */
  current: Omit<TuningCandidate, 'id' | 'description'>;
  /** The execution plan's worker threads (the most instances a model can have). */
  workers: number;
  /** Logical cores: the most intra-op threads worth trying for one instance. */
  cores: number;
  /** Whether the int8 gate passed for this version (its int8 file exists). */
  int8Allowed: boolean;
  /** Whether WebGPU can be used here (the probe passed). */
  webgpuAvailable: boolean;
  /** Whether the model's first dimension is dynamic (batching possible at all). */
  batchable: boolean;
  /** Bytes one session takes (measured or estimated), and what the memory budget leaves for this model's sessions (null: no budget). */
  sessionBytes: number;
  bytesLeft: number | null;
}

/** The batching delay tried when the version does not wait for batches now: long enough to fill some at high concurrency, short next to a CNN's run. */
const TRIED_QUEUE_DELAY_MICROS = 500;

/** A candidate the memory budget cannot hold, and why (shown with the plan). */
export interface SkippedCandidate {
  id: string;
  description: string;
  reason: string;
}

const signature = (c: Omit<TuningCandidate, 'id' | 'description'>) =>
  [c.precision, c.provider, c.min_instances, c.max_instances, c.intra_op_threads, c.max_batch_size, c.max_queue_delay_micros].join('/');

/**
 * The candidates worth measuring on this box, the current serving first (the baseline every
 * other is held against): one change at a time from it, each along a dimension that matters here
 * (instances against intra-op threads, batching and its delay, int8 where the gate allows, WebGPU
 * where it can be used). One change at a time keeps the run within its time budget (Model
 * Analyzer's quick search does the same) and says what each change is worth. Candidates the
 * memory budget cannot hold are left out with the reason; duplicates of another are dropped.
 */
export function tuningCandidates(basis: CandidateBasis): { candidates: TuningCandidate[]; skipped: SkippedCandidate[] } {
  const { current } = basis;
  const variants: TuningCandidate[] = [{ id: 'current', description: 'how the version is served now', ...current }];
  const add = (id: string, description: string, change: Partial<TuningCandidate>) => variants.push({ ...current, ...change, id, description });
  if (basis.workers > 1) {
    add(`instances-${basis.workers}x1`, `${basis.workers} instances with 1 intra-op thread each (instances beat threads at batch 1 on small CPUs)`, { min_instances: basis.workers, max_instances: basis.workers, intra_op_threads: 1 });
  }
  if (basis.cores > 1) {
    add(`instances-1x${basis.cores}`, `1 instance with ${basis.cores} intra-op threads (large models split a run across cores)`, { min_instances: 1, max_instances: 1, intra_op_threads: basis.cores });
  }
  if (basis.batchable && current.max_batch_size > 1) add('batch-off', 'no dynamic batching (every request runs alone)', { max_batch_size: 1, max_queue_delay_micros: 0 });
  if (basis.batchable && current.max_batch_size > 1 && current.max_queue_delay_micros === 0) {
    add(`batch-delay-${TRIED_QUEUE_DELAY_MICROS}us`, `batches wait up to ${TRIED_QUEUE_DELAY_MICROS} µs for more requests`, { max_queue_delay_micros: TRIED_QUEUE_DELAY_MICROS });
  }
  const other: Precision = current.precision === 'int8' ? 'fp32' : 'int8';
  if (basis.int8Allowed) add(other, other === 'int8' ? 'the int8 model the gate passed' : 'the fp32 model', { precision: other });
  if (basis.webgpuAvailable && current.provider !== 'webgpu') add('webgpu', 'WebGPU (one instance: one thread runs WebGPU)', { provider: 'webgpu', min_instances: 1, max_instances: 1 });

  const seen = new Set<string>();
  const candidates: TuningCandidate[] = [];
  const skipped: SkippedCandidate[] = [];
  for (const candidate of variants) {
    const key = signature(candidate);
    if (seen.has(key)) continue;
    seen.add(key);
    // Its sessions in the workers, and a copy on the HTTP thread for a small model.
    const needed = basis.sessionBytes * (candidate.max_instances + 1);
    if (candidate.id !== 'current' && basis.bytesLeft !== null && needed > basis.bytesLeft) {
      skipped.push({ id: candidate.id, description: candidate.description, reason: `needs about ${Math.ceil(needed / 2 ** 20)} MiB for its sessions; the memory budget leaves ${Math.floor(basis.bytesLeft / 2 ** 20)} MiB` });
      continue;
    }
    candidates.push(candidate);
  }
  return { candidates, skipped };
}
