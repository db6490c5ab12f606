/** The precisions a version can serve in: the uploaded file, or its int8 candidate. */
export type Precision = 'fp32' | 'int8';

/**
 * Which sessions: a model version in one precision. An int8 swap loads the new precision's
 * sessions beside the old ones before they go, so precision is part of the key.
 */
export interface SessionKey {
  readonly model: string;
  readonly version: string;
  readonly precision: Precision;
  /**
   * The model's own execution settings (providers and threads an admin chose), when it has them:
   * a change loads the new sessions beside the old ones before they go, as a precision swap does.
   */
  readonly execution?: string;
}

/** Each key object's id, made once: a request looks its session up several times, and a new string is hashed anew each time. */
const ids = new WeakMap<SessionKey, string>();

/**
 * The key as the worker threads' maps and messages hold it. Never parsed back: code that needs the
 * model or version keeps the SessionKey.
 */
export function sessionId(key: SessionKey): string {
  let id = ids.get(key);
  if (id === undefined) {
    id = `${key.model}\u0000${key.version}\u0000${key.precision}${key.execution === undefined ? '' : `\u0000${key.execution}`}`;
    ids.set(key, id);
  }
  return id;
}
