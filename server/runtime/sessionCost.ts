import type { OnnxInfo } from '../onnx/readOnnxInfo.js';

/** What one session of a model file costs, measured when it loads in a process of its own (measureSessionCost). */
export interface SessionCost {
  /** The process's RSS growth for one session: what it holds once loaded, allocator slack included. */
  sessionBytes: number;
  /** How long creating the session took (it blocks the thread that creates it). */
  loadMs: number;
}

/** The measuring child's answer: the file's ONNX facts (checked there, off the HTTP thread) and its cost. */
export interface MeasuredModel extends SessionCost {
  info: OnnxInfo;
}

export interface MeasureRequest {
  path: string;
  /** RSS growth at which the child stops itself: the room left in the model memory budget. */
  limitBytes: number;
}

export type MeasureReply =
  | { ok: true; result: MeasuredModel }
  /** An InferboxError of the file's check, rebuilt from its code and arguments. */
  | { ok: false; code: string; args: unknown[] }
  | { ok: false; error: string };

/** The line a child writes to stderr before it kills itself for going over its limit. */
export const OVER_LIMIT_MARKER = 'inferbox-measure: over the memory limit at ';
