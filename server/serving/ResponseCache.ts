import { createHash } from 'node:crypto';
import type { RuntimeTensor } from '../common/datatypes.js';
import { sessionId, type SessionKey } from '../common/SessionKey.js';

/** What a cache hit replays: the model's outputs, encoded again for each caller's format. */
export type CachedOutputs = Record<string, RuntimeTensor>;

function tensorBytes(t: RuntimeTensor): Uint8Array {
  if (Array.isArray(t.data)) return Buffer.from(JSON.stringify(t.data));
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function sizeOf(outputs: CachedOutputs): number {
  return Object.values(outputs).reduce((n, t) => n + (Array.isArray(t.data) ? Buffer.byteLength(JSON.stringify(t.data)) : t.data.byteLength) + 64, 0);
}

/**
 * An LRU of model outputs bounded in bytes, for models the admin opted in. The key hashes the
 * served session (model, version and precision, so a new version or a precision swap never
 * meets old entries), every input's name, type, shape and bytes, and the outputs asked for.
 */
export class ResponseCache {
  private readonly entries = new Map<string, { outputs: CachedOutputs; bytes: number; session: string }>();
  private bytes = 0;

  constructor(private readonly maxBytes: () => number) {}

  keyOf(session: SessionKey, feeds: Record<string, RuntimeTensor>, outputNames: string[]): string {
    const hash = createHash('sha256').update(sessionId(session)).update('\0');
    for (const name of Object.keys(feeds).sort()) {
      const t = feeds[name]!;
      hash.update(`${name}\0${t.type}\0${t.dims.join(',')}\0`).update(tensorBytes(t));
    }
    return hash.update(outputNames.join('\0')).digest('hex');
  }

  get(key: string): CachedOutputs | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Map order is the LRU order: a hit moves to the newest end.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.outputs;
  }

  /** `session`: whose answer it is, so `evict` can drop a retired version's entries. */
  set(key: string, outputs: CachedOutputs, session: SessionKey): void {
    const bytes = sizeOf(outputs);
    const limit = this.maxBytes();
    if (bytes > limit) return;
    const previous = this.entries.get(key);
    if (previous) { this.bytes -= previous.bytes; this.entries.delete(key); }
    this.entries.set(key, { outputs, bytes, session: sessionId(session) });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= limit) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  /** Drops every answer of these sessions (their version was unloaded, deleted or swapped to another precision). */
  evict(session: SessionKey): void {
    const id = sessionId(session);
    for (const [key, entry] of this.entries) {
      if (entry.session !== id) continue;
      this.entries.delete(key);
      this.bytes -= entry.bytes;
    }
  }

  /** Entries held for these sessions (tests check that a retired version leaves none). */
  countOf(session: SessionKey): number {
    const id = sessionId(session);
    let n = 0;
    for (const entry of this.entries.values()) if (entry.session === id) n += 1;
    return n;
  }

  get sizeBytes(): number {
    return this.bytes;
  }
}
