/** Where a request's time went, in ms, for the request log and Server-Timing. */
export interface StageTiming {
  /** Checking the request against the signature and building its tensors. */
  decodeMs: number;
  /** Waiting for an instance: in the batcher's queue, then behind other runs on the instance. */
  queueMs: number;
  /** Joining the batch's inputs and cutting this request's rows out of its outputs. */
  batchMs: number;
  inferMs: number;
  /** Encoding the outputs (the route adds writing the response body). */
  serializeMs: number;
  /** Rows in the run this request was part of (0: answered from the cache). */
  batchRows: number;
}
