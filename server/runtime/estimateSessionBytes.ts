/**
 * What one onnxruntime CPU session of a model costs in memory, estimated from its file size before
 * loading it (the budget check must come before the load that could take the machine down).
 * Measured with onnxruntime-node 1.30, one-thread CPU sessions, RSS after creating the session and
 * one batch-1 run, beyond a process that already had ORT initialized (`.tmp`-style script described
 * in docs/ARCHITECTURE.md, "Resource faults"): weights are held about twice (the initializers and
 * the prepacked copies of MatMul/Conv weights) — 1.9× on a 113 MB MLP stack, 1.5–1.6× at 38 MB,
 * 2.2–3.3× on the 5–11 MB PaddleOCR models — plus a few MB per session for the arena and graph
 * (3–4 MB for the 0.6 MB classifier, 0.1 MB for the bundled 3 KB mlp). Activations of large
 * batches come on top; the budget is a guard against the wrong model, not an exact account.
 */
const WEIGHT_COPIES = 2;
const SESSION_OVERHEAD_BYTES = 4 * 1024 * 1024;

export function estimateSessionBytes(fileBytes: number): number {
  return WEIGHT_COPIES * fileBytes + SESSION_OVERHEAD_BYTES;
}
