import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { RuntimeTensor, TensorSpec } from '../common/datatypes.js';
import { ERROR_TABLE, InferboxError, inferboxError } from '../common/errors.js';
import { siblingModule, spawnWorker } from '../common/spawnWorker.js';
import type { DecodedInferRequest, ModelSignature } from './decodeInferRequest.js';
import type { DecodeReply, DecodeRequest, WireError } from './decodeWorker.js';

/**
 * Decode threads for a machine: one core stays with the HTTP thread, and decoding shares the rest
 * with the inference workers, so more threads than spare cores would only time-slice against them
 * (and each is a V8 isolate: ~19 MB RSS idle, measured from dist/). One thread decodes ~550
 * CNN-size (550 KB) bodies/s (bench/decodeOffThread.ts), four ~2,000/s, more than a box that size
 * infers. On the 2-core appliance this is 1: the HTTP thread and one decoder.
 */
export function defaultDecodeThreads(cores = availableParallelism()): number {
  return Math.max(1, Math.min(4, cores - 1));
}

export interface JsonDecodePoolOptions {
  /** Worker threads at most (default `defaultDecodeThreads()`); started one by one as load needs them. */
  threads?: number;
  /** Told when a worker thread ends unexpectedly (for the log); the next decode starts a new one. */
  onWorkerLost?: (reason: string) => void;
}

interface Pending {
  resolve: (decoded: DecodedInferRequest) => void;
  reject: (error: Error) => void;
}

class Slot {
  readonly pending = new Map<number, Pending>();
  lastError: Error | undefined;
  constructor(readonly worker: Worker) {}
}

/**
 * Runs decodeJsonInferBody (OIP v2 JSON body → tensors) in worker threads, so decoding mid-size
 * tensors does not hold the HTTP thread (see shouldDecodeOffThread for when it pays). Results and
 * errors are the same as decoding inline: tensors come back as transferred buffers, InferboxErrors
 * as equal InferboxErrors. Workers start on first use, one more whenever all are busy (up to
 * `threads`); each request goes to the least busy. A worker that dies fails its requests with the
 * retryable IBX_ERR_WORKER_LOST and is replaced by the next decode.
 */
export class JsonDecodePool {
  readonly threads: number;
  private readonly slots: Slot[] = [];
  private readonly onWorkerLost: (reason: string) => void;
  private nextId = 1;
  private closed = false;

  constructor(options: JsonDecodePoolOptions = {}) {
    this.threads = Math.max(1, Math.floor(options.threads ?? defaultDecodeThreads()));
    this.onWorkerLost = options.onWorkerLost ?? (() => undefined);
  }

  /**
   * Decodes `body` (the JSON part) and `binary` (the binary-extension part, if any) against the
   * model's signature. The bytes move to the worker: when the given views cover their whole
   * ArrayBuffer it is transferred, and the caller's Buffers are empty afterwards (a Buffer read
   * whole from the socket usually does); otherwise they are copied once.
   */
  decode(body: Buffer | Uint8Array, signature: ModelSignature, binary?: Buffer): Promise<DecodedInferRequest> {
    if (this.closed) return Promise.reject(inferboxError('IBX_ERR_SHUTTING_DOWN'));
    const id = this.nextId++;
    return new Promise<DecodedInferRequest>((resolve, reject) => {
      let slot: Slot;
      try {
        slot = this.pick();
        post(slot.worker, id, body, binary && binary.length > 0 ? binary : undefined, signature);
      } catch (error) {
        reject(error as Error);
        return;
      }
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
    });
  }

  /** Ends the workers; requests still in them fail with IBX_ERR_SHUTTING_DOWN, later ones too. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const slot of slots) fail(slot, inferboxError('IBX_ERR_SHUTTING_DOWN'));
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  /** Worker threads running now. */
  get running(): number {
    return this.slots.length;
  }

  /**
   * For tests of the recovery path: ends the busiest worker thread as a crash would, so its
   * requests fail with IBX_ERR_WORKER_LOST. Resolves once the pool has seen it go.
   */
  async terminateWorkerForTests(): Promise<void> {
    const slot = [...this.slots].sort((a, b) => b.pending.size - a.pending.size)[0];
    if (!slot) return;
    const gone = new Promise((resolve) => slot.worker.once('exit', resolve));
    await slot.worker.terminate();
    await gone;
  }

  /** An idle worker, else a new one while under `threads`, else the one with the fewest requests. */
  private pick(): Slot {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (slot.pending.size === 0) return slot;
      if (!best || slot.pending.size < best.pending.size) best = slot;
    }
    if (!best || this.slots.length < this.threads) return this.spawn();
    return best;
  }

  private spawn(): Slot {
    const slot = new Slot(spawnWorker(siblingModule(import.meta.url, 'decodeWorker')));
    const { worker } = slot;
    worker.on('message', (reply: DecodeReply) => this.settle(slot, reply));
    worker.on('error', (error) => { slot.lastError = error; }); // 'exit' follows and does the recovery
    worker.on('exit', (code) => {
      const index = this.slots.indexOf(slot);
      if (index < 0) return; // closed
      this.slots.splice(index, 1);
      fail(slot, inferboxError('IBX_ERR_WORKER_LOST'));
      this.onWorkerLost(`JSON decode worker exited with code ${code} (${slot.lastError?.message ?? 'no error'}); the next decode starts a new one`);
    });
    worker.unref(); // referenced only while it holds requests: an idle pool does not keep the process up
    this.slots.push(slot);
    return slot;
  }

  private settle(slot: Slot, reply: DecodeReply): void {
    const pending = slot.pending.get(reply.id);
    if (!pending) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) slot.worker.unref();
    if (!reply.ok) {
      pending.reject(reviveError(reply.error));
      return;
    }
    const { feeds: entries, ...rest } = reply.result;
    // No prototype, as decodeInferRequest builds it: an input may be called '__proto__'.
    const feeds = Object.create(null) as Record<string, RuntimeTensor>;
    for (const [name, tensor] of entries) feeds[name] = tensor;
    pending.resolve({ id: rest.id, feeds, outputNames: rest.outputNames, binaryOutputs: rest.binaryOutputs, timeoutMicros: rest.timeoutMicros });
  }
}

function fail(slot: Slot, error: InferboxError): void {
  for (const pending of slot.pending.values()) pending.reject(error);
  slot.pending.clear();
  slot.worker.unref();
}

/** Whether the view is its whole ArrayBuffer (so moving the buffer moves nothing else). */
function ownsBuffer(view: Uint8Array): boolean {
  return view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
}

function copyOf(view: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(view.byteLength);
  copy.set(view);
  return copy;
}

/**
 * Posts the request, moving the bytes rather than cloning them: a view's whole ArrayBuffer would be
 * cloned otherwise (a pooled small Buffer drags its 8 KB pool along, a header its whole body).
 * A JSON header and its binary part are usually two views of one body buffer, moved together.
 */
function post(worker: Worker, id: number, body: Uint8Array, binary: Uint8Array | undefined, signature: ModelSignature): void {
  let bodyView = body;
  let binaryView = binary;
  const together = binary !== undefined && binary.buffer === body.buffer && body.buffer instanceof ArrayBuffer &&
    body.byteOffset === 0 && binary.byteOffset === body.byteLength && binary.byteOffset + binary.byteLength === body.buffer.byteLength;
  if (!together) {
    if (!ownsBuffer(bodyView)) bodyView = copyOf(bodyView);
    if (binaryView && !ownsBuffer(binaryView)) binaryView = copyOf(binaryView);
  }
  // Only what decoding reads: the caller's signature may be a richer object that does not clone.
  const plain: ModelSignature = { name: signature.name, inputs: signature.inputs.map(plainSpec), outputs: signature.outputs.map(plainSpec) };
  const message = (b: Uint8Array, bin: Uint8Array | undefined): DecodeRequest => ({ id, body: b, binary: bin, signature: plain });
  const transfer = [...new Set([bodyView.buffer, ...(binaryView ? [binaryView.buffer] : [])])] as ArrayBuffer[];
  try {
    worker.postMessage(message(bodyView, binaryView), transfer);
  } catch {
    // A buffer that cannot be transferred (marked untransferable by its owner): copy, then move the copies.
    const b = copyOf(bodyView);
    const bin = binaryView && copyOf(binaryView);
    worker.postMessage(message(b, bin), bin ? [b.buffer, bin.buffer] : [b.buffer]);
  }
}

const plainSpec = ({ name, datatype, shape }: TensorSpec): TensorSpec => ({ name, datatype, shape });

/** The worker's error as the main thread's: an equal InferboxError, or a plain Error for a bug. */
function reviveError(wire: WireError): Error {
  if (wire.kind === 'inferbox' && Object.hasOwn(ERROR_TABLE, wire.code)) {
    const error = new InferboxError(wire.code, [], { headers: wire.headers });
    error.message = wire.message;
    if (wire.stack !== undefined) error.stack = wire.stack;
    return error;
  }
  const error = new Error(wire.message);
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}
