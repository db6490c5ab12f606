import { z } from 'zod';

/**
 * Settings an admin can save (PUT /api/settings) and that flags and environment variables can
 * override for one run. Precedence: command-line flag > environment variable > saved > default.
 * Each default is here and nowhere else.
 */
export const serverSettingsSchema = z.object({
  /** Listen on every interface by default: serving the LAN is the appliance's job. */
  host: z.union([z.ipv4(), z.ipv6(), z.literal('localhost'), z.hostname()], { message: 'an IPv4 or IPv6 address, or a host name' }).default('0.0.0.0'),
  /** 8000 is the port Triton and KServe use for OIP REST, so their clients work unchanged. */
  port: z.number().int().min(0).max(65535).default(8000),
  /** auto = HTTPS unless bound to loopback; off is for a reverse proxy that terminates TLS. */
  tls: z.enum(['auto', 'on', 'off']).default('auto'),
  /** Request-log rows older than this are purged. */
  log_retention_days: z.number().int().min(1).max(3650).default(30),
  /**
   * Keep each inference's request and response (JSON, up to 64 KiB each) in the request log. Off by
   * default: payloads can hold personal data, and the log keeps them for log_retention_days.
   */
  log_payloads: z.boolean().default(false),
  /** Largest JSON inference body (a batch-1 224×224 image is ~3 MB as JSON). */
  max_infer_body_bytes: z.number().int().min(1024).default(64 * 1024 * 1024),
  /** Largest ONNX upload; files are streamed to disk, never held in memory. */
  max_model_bytes: z.number().int().min(1024).default(4 * 1024 * 1024 * 1024),
  /** Dynamic batching (Triton semantics), for models whose inputs and outputs all have a dynamic first dimension: most rows per run (1 = off). */
  batch_max_size: z.number().int().min(1).max(4096).default(32),
  /** How long a request may wait for others when an instance is free, µs; 0 = batch only what queues while every instance is busy. */
  batch_max_queue_delay_micros: z.number().int().min(0).max(1_000_000).default(0),
  /** Requests waiting per model version beyond this get 503 with Retry-After. */
  batch_max_queue_size: z.number().int().min(1).default(1024),
  /** Models idle (no request) this long unload their sessions and load again on the next request; 0 = never. A model's own setting wins. */
  model_idle_unload_seconds: z.number().int().min(0).max(30 * 24 * 3600).default(0),
  /** Response cache (for models the admin opts in): bytes of model outputs kept, least recently used evicted first. */
  cache_max_bytes: z.number().int().min(0).default(64 * 1024 * 1024),
  /** int8 gate: share of rows whose top-1 class must agree with fp32 (classifier-like outputs). */
  int8_min_top1_agreement: z.number().min(0).max(1).default(0.99),
  /** int8 gate: mean cosine similarity to fp32 outputs (other outputs). */
  int8_min_cosine: z.number().min(0).max(1).default(0.995),
  /**
   * int8 gate: fp32 latency / int8 latency must be above this. 5% above even, so that timing noise
   * on a model int8 does not really speed up (a CNN whose convolutions stay fp32) never picks int8.
   */
  int8_min_speedup: z.number().min(0).default(1.05),
  /** Async jobs: most items one job may hold (each is one inference; all are validated at submission). */
  job_max_items: z.number().int().min(1).max(1_000_000).default(10_000),
  /** Async jobs: largest upload (JSON, JSON lines or CSV); the items are stored in SQLite until the job ends. */
  job_max_body_bytes: z.number().int().min(1024).default(64 * 1024 * 1024),
  /** Named-feature predictions (POST /api/predict): most rows per call; more go through a prediction job. */
  predict_max_rows: z.number().int().min(1).max(100_000).default(1000),
  /** Named-feature predictions: largest body (rows as JSON, or an image). */
  predict_max_body_bytes: z.number().int().min(1024).default(16 * 1024 * 1024),
  /** Images are refused above this many pixels (read from the header before decoding: a small file can decode huge). */
  predict_max_image_pixels: z.number().int().min(1).default(40_000_000),
});

export type ServerSettings = z.infer<typeof serverSettingsSchema>;
export type SettingName = keyof ServerSettings;

/** Settings that take effect only when the server starts again. */
export const RESTART_SETTINGS: readonly SettingName[] = ['host', 'port', 'tls'];

/** A partial update as the admin API accepts it: `null` puts a setting back to its default. */
export const settingsUpdateSchema = z
  .object(Object.fromEntries(Object.entries(serverSettingsSchema.shape).map(([k, v]) => [k, v.unwrap().nullable().optional()])) as {
    [K in SettingName]: z.ZodOptional<z.ZodNullable<ReturnType<(typeof serverSettingsSchema.shape)[K]['unwrap']>>>;
  })
  .strict();

/** Layers the sources in precedence order; later sources win where they say something. */
export function resolveSettings(...layers: Partial<Record<SettingName, unknown>>[]): ServerSettings {
  const merged: Record<string, unknown> = {};
  for (const layer of layers) for (const [k, v] of Object.entries(layer)) if (v !== undefined) merged[k] = v;
  return serverSettingsSchema.parse(merged);
}
