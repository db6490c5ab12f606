/**
 * One error table for the whole server (the fastify FST_ERR_* pattern): each code has an
 * HTTP status and a message template. Routes and services throw `InferboxError`s made from
 * this table; one middleware turns them into the OIP v2 error shape `{"error": "..."}`.
 * Anything that is not an InferboxError is a bug: it becomes a generic 500 with the stack logged.
 * Every code is listed in docs/ERRORS.md (a test checks it).
 */
export const ERROR_TABLE = {
  IBX_ERR_INVALID_JSON: { status: 400, template: 'request body is not valid JSON: {0}' },
  IBX_ERR_INVALID_REQUEST: { status: 400, template: 'invalid request: {0}' },
  IBX_ERR_UNKNOWN_INPUT: { status: 400, template: "unexpected input '{0}': model '{1}' has inputs {2}" },
  IBX_ERR_MISSING_INPUT: { status: 400, template: "missing input '{0}' for model '{1}'" },
  IBX_ERR_DUPLICATE_INPUT: { status: 400, template: "input '{0}' is given more than once" },
  IBX_ERR_UNKNOWN_OUTPUT: { status: 400, template: "unexpected output '{0}': model '{1}' has outputs {2}" },
  IBX_ERR_UNSUPPORTED_DATATYPE: { status: 400, template: "input '{0}': datatype '{1}' is not supported; use one of {2}" },
  IBX_ERR_DATATYPE_MISMATCH: { status: 400, template: "input '{0}': datatype {1} does not match the model's {2}" },
  IBX_ERR_SHAPE_MISMATCH: { status: 400, template: "input '{0}': shape {1} does not fit the model's shape {2}" },
  IBX_ERR_DATA_LENGTH: { status: 400, template: "input '{0}': shape {1} needs {2} elements but {3} has {4}" },
  IBX_ERR_DATA_NESTING: { status: 400, template: "input '{0}': nested data does not follow shape {1}: {2}" },
  IBX_ERR_BINARY_DATA: { status: 400, template: 'binary tensor data: {0}' },
  IBX_ERR_INVALID_ELEMENT: { status: 400, template: "input '{0}': element {1} is not a valid {2} ({3})" },
  IBX_ERR_INFERENCE_FAILED: { status: 400, template: "model '{0}' version {1} could not run on this input: {2}" },
  IBX_ERR_INVALID_NAME: { status: 400, template: '{0}' },
  IBX_ERR_MALFORMED_ONNX: { status: 400, template: 'the body is not a valid ONNX model: {0}' },
  IBX_ERR_JOB_INPUT: { status: 400, template: 'job input, {0}: {1}' },
  IBX_ERR_PREDICT_INPUT: { status: 400, template: '{0}' },
  IBX_ERR_IMAGE_INVALID: { status: 400, template: "image '{0}' could not be decoded: {1}" },
  IBX_ERR_EXTERNAL_DATA_REFUSED: { status: 400, template: "the model refers to external data '{0}' outside its own folder" },
  IBX_ERR_TLS_PEM_INVALID: { status: 400, template: 'certificate upload: {0}' },
  IBX_ERR_TLS_KEY_MISMATCH: { status: 400, template: 'the private key does not belong to the certificate ({0})' },
  IBX_ERR_TLS_CHAIN_INVALID: { status: 400, template: 'certificate chain: {0}' },
  IBX_ERR_TLS_CERT_EXPIRED: { status: 400, template: 'the certificate expired on {0}' },
  IBX_ERR_TLS_CERT_NOT_YET_VALID: { status: 400, template: 'the certificate is not valid before {0}' },
  IBX_ERR_TLS_NAME_NOT_COVERED: { status: 400, template: 'the certificate names {0} but none of the names clients use to reach this server: {1}' },
  IBX_ERR_UNAUTHENTICATED: { status: 401, template: '{0}' },
  IBX_ERR_FORBIDDEN: { status: 403, template: '{0}' },
  IBX_ERR_PIPELINE_LIMIT: { status: 403, template: "a 'models:write' key cannot start this experiment: {0} (pipeline_max_treatment_share is {1}; an admin can start it, or widen or promote it later)" },
  IBX_ERR_ROUTE_NOT_FOUND: { status: 404, template: 'no route for {0} {1}' },
  IBX_ERR_MODEL_NOT_FOUND: { status: 404, template: "model '{0}' not found" },
  IBX_ERR_VERSION_NOT_FOUND: { status: 404, template: "model '{0}' has no version '{1}'" },
  IBX_ERR_JOB_NOT_FOUND: { status: 404, template: "job '{0}' not found" },
  IBX_ERR_EXPERIMENT_NOT_FOUND: { status: 404, template: "experiment '{0}' not found" },
  IBX_ERR_FEEDBACK_TARGET_NOT_FOUND: { status: 404, template: "no running or paused experiment that declares metric '{1}' has seen {0}" },
  IBX_ERR_CARD_NOT_FOUND: { status: 404, template: "model '{0}' has no card{1}; GET /api/models/{0}/card/inferred gives a starting point" },
  IBX_ERR_KEY_NOT_FOUND: { status: 404, template: "API key '{0}' not found" },
  IBX_ERR_WEBHOOK_NOT_FOUND: { status: 404, template: "webhook '{0}' not found" },
  IBX_ERR_ADDRESS_NOT_THROTTLED: { status: 404, template: "the address '{0}' is not waiting or blocked" },
  IBX_ERR_BACKUP_NOT_FOUND: { status: 404, template: "backup '{0}' not found" },
  IBX_ERR_TLS_NO_CERTIFICATE: { status: 404, template: 'there is no certificate yet: the server serves plain HTTP (tls: off) and none was uploaded or generated' },
  IBX_ERR_METHOD_NOT_ALLOWED: { status: 405, template: '{0} is not allowed on {1}; allowed: {2}' },
  IBX_ERR_CONFLICT: { status: 409, template: '{0}' },
  IBX_ERR_NO_MODEL_CARD: { status: 409, template: "model '{0}' version {1} has no card, so it takes no named features: an admin saves one with PUT /api/models/{0}/card (or use the OIP v2 tensor API)" },
  IBX_ERR_CARD_STALE: { status: 409, template: "the card of model '{0}' does not fit version {1}, which answers now: {2}; save a card for that version" },
  // The model memory budget is the admin's policy, not a fault of the server: a 4xx, so that no
  // client's retry-on-5xx loads the same model again; the message says what frees room.
  IBX_ERR_MEMORY_BUDGET: { status: 409, template: "loading '{0}' needs about {1} MB of memory ({2} instance(s) × {3} MB each); {4} MB of the {5} MB model memory budget (model_memory_budget_bytes) is left. Unload a model, lower its instances or raise the budget" },
  IBX_ERR_MEMORY_BUDGET_MEASURED: { status: 409, template: "one instance of '{0}' took more than the {1} MB left of the {2} MB model memory budget (model_memory_budget_bytes) while it was measured in a separate process, and was stopped there; nothing was loaded. Unload a model or raise the budget" },
  IBX_ERR_DATA_DIR_IN_USE: { status: 409, template: 'an Inferbox server (pid {1}) is running on {0}: stop it (or the service) first' },
  IBX_ERR_BODY_TOO_LARGE: { status: 413, template: 'request body is larger than the limit of {0} bytes' },
  IBX_ERR_JOB_TOO_LARGE: { status: 413, template: 'the job has {0} items; the limit is {1} (job_max_items)' },
  IBX_ERR_PREDICT_TOO_MANY_ROWS: { status: 413, template: '{0} rows in one call; the limit is {1} (predict_max_rows): send larger sets as a prediction job (POST /api/jobs?kind=predict)' },
  IBX_ERR_IMAGE_TOO_LARGE: { status: 413, template: "image '{0}' is {1}×{2} pixels; the limit is {3} pixels (predict_max_image_pixels)" },
  IBX_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, template: "content type '{0}' is not accepted here; send {1}" },
  IBX_ERR_AUTH_THROTTLED: { status: 429, template: 'too many failed authentication attempts from {0}: {1}; retry after {2} s' },
  IBX_ERR_RATE_LIMITED: { status: 429, template: "the key '{0}' is over its rate limit of {1} requests/s (burst {2}); retry after {3} s" },
  IBX_ERR_MODEL_REJECTED: { status: 422, template: 'onnxruntime could not load the model: {0}' },
  IBX_ERR_CARD_INVALID: { status: 422, template: "the card does not fit model '{0}' version {1}: {2}" },
  // 507 Insufficient Storage (RFC 4918 §11.5): the server cannot store what the request needs; the
  // request itself was fine, and the same request succeeds once the admin frees space.
  IBX_ERR_DISK_FULL: { status: 507, template: 'not enough disk space in the data directory to {0}; nothing of it was kept. Free space (or raise the quota) and retry' },
  IBX_ERR_MODEL_NOT_READY: { status: 503, template: "model '{0}' version {1} is not ready (state: {2})" },
  IBX_ERR_NO_ACTIVE_VERSION: { status: 503, template: "model '{0}' has no active version" },
  IBX_ERR_WORKER_LOST: { status: 503, template: 'the inference worker stopped while running this request; retry it' },
  IBX_ERR_SESSION_UNAVAILABLE: { status: 503, template: "the model's session is being loaded or unloaded in the worker; retry" },
  IBX_ERR_QUEUE_FULL: { status: 503, template: 'the model is busy: {0} requests are already waiting; retry shortly' },
  IBX_ERR_QUEUE_TIMEOUT: { status: 503, template: 'the request waited {0} ms, its timeout, without reaching an instance; retry shortly or allow a longer timeout' },
  IBX_ERR_SHUTTING_DOWN: { status: 503, template: 'the server is shutting down' },
  IBX_ERR_BACKUP_INVALID: { status: 422, template: "the backup '{0}' cannot be restored: {1}. Nothing was changed" },
  IBX_ERR_BACKUP_TOO_NEW: { status: 422, template: "the backup '{0}' was made by a newer Inferbox ({1}); this version ({2}) cannot restore it. Nothing was changed" },
  IBX_ERR_SCHEMA_TOO_NEW: { status: 500, template: 'the database has schema version {0}, newer than this Inferbox knows ({1}): a newer Inferbox wrote it. It was left untouched; run that version (or newer) again, or restore a backup made by this version' },
  IBX_ERR_INTERNAL: { status: 500, template: 'internal server error' },
} as const satisfies Record<string, { status: number; template: string }>;

export type ErrorCode = keyof typeof ERROR_TABLE;

function format(template: string, args: readonly unknown[]): string {
  return template.replace(/\{(\d+)\}/g, (_, i: string) => {
    const value = args[Number(i)];
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/** An expected error: its message is safe to show to the caller. */
export class InferboxError extends Error {
  readonly code: ErrorCode;
  /** The template's arguments: with the code they rebuild the error on the other side of a process boundary. */
  readonly args: readonly unknown[];
  readonly status: number;
  /** Extra response headers (e.g. Allow on a 405). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, args: readonly unknown[] = [], options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(format(ERROR_TABLE[code].template, args), { cause: options?.cause });
    this.name = 'InferboxError';
    this.code = code;
    this.args = args;
    this.status = ERROR_TABLE[code].status;
    this.headers = options?.headers ?? {};
  }
}

export function inferboxError(code: ErrorCode, ...args: unknown[]): InferboxError {
  return new InferboxError(code, args);
}

export function isInferboxError(error: unknown): error is InferboxError {
  return error instanceof InferboxError;
}

/** The message of any thrown value, for logs and wrapped reasons. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
