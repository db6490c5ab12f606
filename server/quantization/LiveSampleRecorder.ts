import type { QuantizationRepository } from '../store/QuantizationRepository.js';

/**
 * Opt-in per model: keeps the inputs of successful live requests as validation samples, up to
 * the limit the admin set, so the int8 gate can judge on real traffic when no samples were
 * uploaded. Off by default (payloads are kept only when asked); the samples are payloads, so
 * they expire with the model's payload retention and are erased with its payloads. Counts are
 * cached so a model that is full, or not recording, costs one map lookup per request.
 */
export class LiveSampleRecorder {
  private readonly remaining = new Map<string, number>();

  constructor(private readonly repository: QuantizationRepository) {}

  private left(model: string): number {
    let left = this.remaining.get(model);
    if (left === undefined) {
      left = Math.max(0, this.repository.recordingLimit(model) - this.repository.countSamples(model, 'live'));
      this.remaining.set(model, left);
    }
    return left;
  }

  /**
   * The request id goes with the sample, so erasing a request's payload erases its sample too.
   * `inputs` is only called when the sample is kept (a body decoded off the HTTP thread is parsed
   * again for it, so only while the model records).
   */
  offer(model: string, inputs: () => unknown[], requestId: string): void {
    const left = this.left(model);
    if (left === 0) return;
    this.repository.addSamples(model, 'live', [inputs()], new Date().toISOString(), requestId);
    this.remaining.set(model, left - 1);
  }

  /** Whether the model keeps live samples now (a decoder that would discard the request's JSON keeps it then). */
  isRecording(model: string): boolean {
    return this.left(model) > 0;
  }

  setLimit(model: string, limit: number): { limit: number; recorded: number } {
    this.repository.setRecordingLimit(model, limit);
    this.remaining.delete(model);
    return { limit, recorded: this.repository.countSamples(model, 'live') };
  }

  /** Samples were deleted: counts start again. */
  forget(model: string): void {
    this.remaining.delete(model);
  }

  /** Live samples of any model were erased or expired: every count is read again. */
  forgetAll(): void {
    this.remaining.clear();
  }
}
