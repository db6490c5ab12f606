import { z } from 'zod';
import { isLanHost } from '../common/isLanHost.js';

/** An OTLP/HTTP traces URL on this machine or the LAN, or '' (off). */
const lanOtlpEndpoint = z.string().refine(
  (value) => {
    if (value === '') return true;
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '' && isLanHost(url.hostname);
    } catch {
      return false;
    }
  },
  {
    message:
      "an http(s) URL of an OTLP collector whose host is 'localhost' or an IP address in a loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7) or link-local range, e.g. http://192.168.1.20:4318/v1/traces; host names and public addresses are refused so that traces cannot leave the local network; '' turns tracing off",
  },
);

/**
 * Settings an admin can save (PUT /api/settings) and that flags and environment variables can
 * override for one run. Precedence: command-line flag > environment variable > saved > default.
 * Each default is here and nowhere else.
 */
/** An exact browser origin as the Origin header sends it: scheme, host and port, nothing else. */
const exactOrigin = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
    } catch {
      return false;
    }
  },
  { message: 'an exact origin such as https://app.example.com or http://10.0.0.5:3000 (no path, no trailing slash)' },
);

export const serverSettingsSchema = z.object({
  /** Listen on every interface by default: serving the LAN is the appliance's job. */
  host: z.union([z.ipv4(), z.ipv6(), z.literal('localhost'), z.hostname()], { message: 'an IPv4 or IPv6 address, or a host name' }).default('0.0.0.0'),
  /** 8000 is the port Triton and KServe use for OIP REST, so their clients work unchanged. */
  port: z.number().int().min(0).max(65535).default(8000),
  /**
   * The OIP v2 gRPC port. auto: the REST port + 1 (8001 beside the default 8000, the pair Triton and
   * KServe use), or a free port when the REST port is 0 (tests and side-by-side instances must not
   * fight over a fixed one); 0: a free port; off: no gRPC. TLS follows `tls`, with the same certificate.
   * A taken port fails the start only when --grpc-port / INFERBOX_GRPC_PORT named it; otherwise REST
   * serves and the port is tried again (grpc/RetryingGrpcListener).
   */
  grpc_port: z.union([z.number().int().min(0).max(65535), z.enum(['auto', 'off'])]).default('auto'),
  /** auto = HTTPS unless bound to loopback; off is for a reverse proxy that terminates TLS. */
  tls: z.enum(['auto', 'on', 'off']).default('auto'),
  /** Request-log rows older than this are purged. */
  log_retention_days: z.number().int().min(1).max(3650).default(30),
  /**
   * How long a model's logged payloads (and recorded live samples) are kept, for models that do not
   * set their own. Short: they can hold personal data. Payload logging itself is switched on per
   * model only (models' `log_payloads`), so no server-wide switch can reach a model nobody chose.
   */
  payload_retention_days: z.number().int().min(1).max(365).default(7),
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
  /**
   * Requests per second for a key without its own limit; 0 = unlimited (the default): one app key
   * often carries a whole business app's traffic, and an unexpected 429 there is an outage. The
   * queue limits (batch_max_queue_size) protect the server itself; set this to share it fairly.
   */
  key_rate_limit_per_second: z.number().min(0).default(0),
  /** Requests a key may make at once above its rate (token-bucket size), for keys without their own. */
  key_rate_limit_burst: z.number().int().min(1).default(50),
  /** Failed authentications (missing, unknown, revoked or expired key) from one address before it must wait: a few typos never do. */
  auth_failures_before_backoff: z.number().int().min(1).default(10),
  /** The first wait after those; it doubles with every further failure (also every retry during a wait). */
  auth_backoff_initial_seconds: z.number().positive().default(1),
  /** The longest wait. */
  auth_backoff_max_seconds: z.number().positive().default(60),
  /** At this many failures (decayed) the address is blocked: a client that keeps guessing or ignores Retry-After gets here fast. */
  auth_block_after_failures: z.number().int().min(1).default(30),
  /** How long a block lasts (the admin can lift it early on the Keys page). */
  auth_block_seconds: z.number().positive().default(900),
  /** Failures are forgotten gradually: an address's count halves every this many seconds. */
  auth_failure_half_life_seconds: z.number().positive().default(3600),
  /**
   * Browser origins allowed to call /api and /v2 from their own pages (CORS), exact matches only.
   * Empty (the default): no cross-origin access; the console is same-origin and needs none.
   */
  cors_allowed_origins: z.array(exactOrigin).max(100).default([]),
  /** Named-feature predictions (POST /api/predict): most rows per call; more go through a prediction job. */
  predict_max_rows: z.number().int().min(1).max(100_000).default(1000),
  /** Named-feature predictions: largest body (rows as JSON, or an image). */
  predict_max_body_bytes: z.number().int().min(1024).default(16 * 1024 * 1024),
  /** Images are refused above this many pixels (read from the header before decoding: a small file can decode huge). */
  predict_max_image_pixels: z.number().int().min(1).default(40_000_000),
  /**
   * Memory the loaded models' sessions may take together, estimated before each load (2× the ONNX
   * file + 4 MB per instance, measured: docs/ARCHITECTURE.md, "Resource faults"); a load beyond it
   * is refused (507) instead of swapping or meeting the OOM killer. 0 = automatic: 75% of the
   * machine's memory (AUTO_MODEL_MEMORY_SHARE), leaving the rest to the server, SQLite and the OS.
   */
  model_memory_budget_bytes: z.number().int().min(0).default(0),
  /** The console warns when the data directory's disk has less free space than this (uploads, int8 files and the logs need room). */
  disk_low_space_warning_bytes: z.number().int().min(0).default(1024 * 1024 * 1024),
  /**
   * Scheduled backups every this many hours; 0 = off (the default): each archive holds every model
   * file, so the admin first picks where they go (another disk protects against more) and how many.
   */
  backup_interval_hours: z.number().min(0).max(24 * 365).default(0),
  /** Archives kept per kind (scheduled, manual, pre-migration, pre-restore); older ones are deleted after each new one. */
  backup_keep: z.number().int().min(1).max(1000).default(7),
  /** Folder for backups (absolute, or relative to the data dir); empty = `<data-dir>/backups`. Pre-migration backups always go to `<data-dir>/backups`. */
  backup_dir: z.string().max(4096).default(''),
  /**
   * On SIGTERM/SIGINT, how long requests in flight may take to finish before their connections are
   * closed. Below the desktop app's 15 s kill timeout and systemd's TimeoutStopSec (30 s in our unit).
   */
  shutdown_drain_seconds: z.number().min(0).max(300).default(10),
  /**
   * Lets a scraper on this machine (127.0.0.1 or ::1) read GET /metrics without a key, for a local
   * Prometheus or node agent that cannot hold one. Off by default: the numbers name models and
   * traffic. Do not turn it on behind a reverse proxy on this machine: the server sees the proxy's
   * loopback address for every client, so the whole LAN would read /metrics.
   */
  metrics_loopback_without_key: z.boolean().default(false),
  /**
   * Where to send OpenTelemetry traces (per-request spans: decode, queue, batch, inference,
   * serialization) over OTLP/HTTP. Empty (the default): no spans are made and nothing connects
   * anywhere; trace ids are still read from `traceparent`, answered and logged. Only loopback and
   * LAN addresses are accepted, so traces (model names, timings) never leave the local network.
   */
  otlp_traces_endpoint: lanOtlpEndpoint.default(''),
  /** Share of requests without a caller's sampling decision whose traces are exported (a caller's `traceparent` sampled flag is followed). */
  tracing_sample_ratio: z.number().min(0).max(1).default(1),
  /**
   * The most traffic a training pipeline's upload may take without an admin: an experiment that a
   * non-admin (`models:write`) key starts with its upload gives the candidate at most this share
   * (its weight, every canary step, the shadow percent / 100), with the error_rate and
   * circuit_breaker guardrails on; more is refused (403 IBX_ERR_PIPELINE_LIMIT). Only an admin
   * starts a wider experiment or promotes one. 0: a pipeline can start only a control-only experiment.
   */
  pipeline_max_treatment_share: z.number().min(0).max(1).default(0.1),
  /**
   * The capacity advisor warns (console banner, `capacity.warning` webhook) when a model's load
   * stays above this share of its tuned capacity for five minutes.
   */
  capacity_warning_ratio: z.number().min(0.05).max(10).default(0.8),
  /** Webhook deliveries: attempts in all, the first included, before a delivery is marked failed. */
  webhook_max_attempts: z.number().int().min(1).max(50).default(10),
  /** Wait before a delivery's second attempt; it doubles after each failure (10 s … with 10 attempts ≈ 85 min in all). */
  webhook_retry_initial_seconds: z.number().positive().max(86_400).default(10),
  /** The longest wait between two attempts. */
  webhook_retry_max_seconds: z.number().positive().max(86_400).default(3600),
  /** An attempt whose receiver has not answered in this long fails (and is retried). */
  webhook_timeout_seconds: z.number().positive().max(300).default(10),
});

/** The share of total memory the automatic model memory budget (model_memory_budget_bytes = 0) allows. */
export const AUTO_MODEL_MEMORY_SHARE = 0.75;

/** The model memory budget in bytes: the setting, or the automatic share of `totalMemoryBytes`. */
export function modelMemoryBudgetBytes(settings: Pick<ServerSettings, 'model_memory_budget_bytes'>, totalMemoryBytes: number): number {
  return settings.model_memory_budget_bytes > 0 ? settings.model_memory_budget_bytes : Math.floor(totalMemoryBytes * AUTO_MODEL_MEMORY_SHARE);
}

export type ServerSettings = z.infer<typeof serverSettingsSchema>;
export type SettingName = keyof ServerSettings;

/** Settings that take effect only when the server starts again. */
export const RESTART_SETTINGS: readonly SettingName[] = ['host', 'port', 'grpc_port', 'tls'];

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

/** The gRPC port to bind (`grpc_port` as described above), or null when gRPC is off. */
export function grpcPortOf(settings: Pick<ServerSettings, 'port' | 'grpc_port'>): number | null {
  if (settings.grpc_port === 'off') return null;
  if (settings.grpc_port !== 'auto') return settings.grpc_port;
  return settings.port === 0 || settings.port === 65535 ? 0 : settings.port + 1;
}
