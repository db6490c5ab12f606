import type { SystemInformationCall } from './SystemInformation.js';

/** How a systeminformation call failed: it ran out of time, threw/crashed, or answered nonsense. */
export type ProbeFailure = 'timeout' | 'failed' | 'invalid';

/** One systeminformation call that could not be used; the probe records it and falls back to node:os. */
export class HardwareProbeError extends Error {
  override readonly name = 'HardwareProbeError';
  readonly call: SystemInformationCall;
  readonly failure: ProbeFailure;

  constructor(call: SystemInformationCall, failure: ProbeFailure, detail: string, options?: ErrorOptions) {
    super(`${call}: ${detail}`, options);
    this.call = call;
    this.failure = failure;
  }
}
