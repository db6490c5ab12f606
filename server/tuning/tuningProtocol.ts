import type { Precision } from '../common/SessionKey.js';
import type { PlanOverrides } from '../hardware/planExecution.js';

/**
 * One way to serve a version that the tuner measures: the serving settings it changes (the
 * per-model settings of `modelServingSettings`) and the precision. Everything else stays as the
 * admin set it.
 */
export interface TuningCandidate {
  /** Stable within a run ("default", "instances-2x1", ...): results and the choice name it. */
  id: string;
  /** Why it is worth measuring, for the console. */
  description: string;
  precision: Precision;
  provider: 'cpu' | 'webgpu';
  min_instances: number;
  max_instances: number;
  intra_op_threads: number;
  max_batch_size: number;
  max_queue_delay_micros: number;
}

/** The serving settings a candidate sets (its id, description and precision are not settings). */
export function settingsOf(candidate: TuningCandidate): Omit<TuningCandidate, 'id' | 'description' | 'precision'> {
  const { id: _id, description: _description, precision: _precision, ...settings } = candidate;
  return settings;
}

/** One concurrency level of a closed-loop load: what the tuning server answered. */
export interface CurvePoint {
  concurrency: number;
  rps: number;
  p50_ms: number;
  p95_ms: number;
  errors: number;
}

/** A candidate's measured latency/throughput curve, or why it has none. */
export interface CandidateResult {
  id: string;
  curve: CurvePoint[];
  /** Set when the candidate could not be measured (its settings were refused, every request failed). */
  error: string | null;
  measured_at: string;
  /**
   * A second, independent measurement of the current serving or the provisional choice, taken
   * after every candidate was measured once (see chooseCandidate): the choice and the prediction
   * rest on these when they exist.
   */
  confirmation?: boolean;
}

/** What the tuning process is asked to do. */
export interface TuningRequest {
  model: string;
  /** The version's fp32 file: the tuning server makes its own int8 candidate from it, through the same gate. */
  file: string;
  /** The model's card-free OIP JSON request bodies to send in turn (its samples, or generated inputs). */
  bodies: string[];
  candidates: TuningCandidate[];
  /** Results a run had before a restart: those candidates are not measured again. */
  measured: CandidateResult[];
  concurrencies: number[];
  /** Seconds each concurrency level is measured (after a short unmeasured warm-up). */
  levelSeconds: number;
  /** The model's latency objective (null: none): the provisional choice that is measured again depends on it. */
  objectiveP95Ms: number | null;
  /** A level whose p95 is over this stops the candidate's curve: higher concurrency only waits longer. */
  stopAboveP95Ms: number | null;
  /** The real server's plan: the tuning server gets the same workers and threads. */
  execution: PlanOverrides;
  /** The whole run must end by this epoch ms (candidates not reached are left unmeasured). */
  deadline: number;
}

/** Messages from the tuning process: one per measured candidate, then the end. */
export type TuningMessage =
  | { kind: 'result'; result: CandidateResult }
  | { kind: 'end'; error: string | null };

/** What the tuning server (server/tuningServer.ts, a child of the tuning process) is asked to do. */
export interface TuningServerRequest {
  dataDir: string;
  /** The real server's plan (workers, threads, provider), so candidates get the same workers. */
  execution: PlanOverrides;
}

export type TuningServerReply = { ok: true; port: number; adminKeyPath: string } | { ok: false; error: string };
