import { z } from 'zod';
import { inferboxError } from '../common/errors.js';
import { EXECUTION_PROVIDERS } from '../common/executionProviders.js';
import { parseRequest } from '../common/parseRequest.js';
import type { ModelRepository } from '../store/ModelRepository.js';
import type { ServerSettings } from './serverSettings.js';

const batchSize = z.number().int().min(1).max(4096);
const instances = z.number().int().min(1).max(256);

/**
 * How one model is served (Triton's model config, the parts this appliance has): dynamic batching,
 * the queue, instances and idle unloading, and whether its payloads are logged. Each field the admin leaves unset follows the
 * server-wide default, so changing a default reaches every model that did not choose.
 */
export const modelServingSchema = z.object({
  /** Most rows one run takes (1 = no batching); only for models whose first dimension is dynamic. */
  max_batch_size: batchSize,
  /** Sizes the model runs best at: a batch stops at the largest of these it can form exactly. */
  preferred_batch_sizes: z.array(batchSize).max(16),
  /** How long a request may wait for others when an instance is free, µs. */
  max_queue_delay_micros: z.number().int().min(0).max(1_000_000),
  /** Requests waiting beyond this get 503 with Retry-After. */
  max_queue_size: z.number().int().min(1).max(1_000_000),
  /** A request still queued after this long gets 503 (0 = no limit); requests may ask for less. */
  timeout_micros: z.number().int().min(0).max(600_000_000),
  /** Workers holding the model while it is loaded. */
  min_instances: instances,
  /** Workers it may spread to while requests queue (capped by the execution plan's workers). */
  max_instances: instances,
  /** Whether runs shorter than a trip to a worker may run on the HTTP thread. */
  inline: z.boolean(),
  /** Unload after this long without a request, load again on the next one (0 = never). */
  idle_unload_seconds: z.number().int().min(0).max(30 * 24 * 3600),
  /** Keep each answered request's JSON and response (up to 64 KiB each) for this model; audited, exportable, erasable. */
  log_payloads: z.boolean(),
  /** Days this model's payloads and live samples are kept before the purge deletes them. */
  payload_retention_days: z.number().int().min(1).max(365),
  /**
   * Where its sessions run: `auto` follows the server's execution plan; a provider name forces it
   * (with the CPU as the fallback when its sessions cannot be created).
   */
  provider: z.enum(['auto', ...EXECUTION_PROVIDERS]),
  /** Intra-op threads of each of its sessions (default: the execution plan's). */
  intra_op_threads: z.number().int().min(1).max(256),
  /**
   * The latency promise, p95 in ms (null: none). The tuner picks the candidate with the most
   * capacity within it; without one, the lowest p95 at one request at a time.
   */
  latency_objective_p95_ms: z.number().positive().max(600_000).nullable(),
  /** Whether a finished tuning run applies its choice by itself (audited, revertible) instead of waiting for the admin. */
  tuning_auto_apply: z.boolean(),
  /**
   * Adaptive remediation: when p95 stays above the objective, step to the next tuned candidate
   * with more throughput (within the memory budget), and back once the load falls. Off by default.
   */
  adaptive_remediation: z.boolean(),
});

/** The serving settings that choose how a model's sessions run: changing one reloads them. */
export const EXECUTION_FIELDS = ['provider', 'intra_op_threads'] as const satisfies readonly (keyof z.infer<typeof modelServingSchema>)[];

export type ModelServingSettings = z.infer<typeof modelServingSchema>;
type Field = keyof ModelServingSettings;

/** A partial update: `null` puts a field back to the server-wide default. */
const updateSchema = z
  .object(Object.fromEntries(Object.entries(modelServingSchema.shape).map(([k, v]) => [k, v.nullable().optional()])) as {
    [K in Field]: z.ZodOptional<z.ZodNullable<(typeof modelServingSchema.shape)[K]>>;
  })
  .strict();

export interface ModelServingView {
  /** What the model runs with now. */
  effective: ModelServingSettings;
  /** What the admin set for this model. */
  overrides: Partial<ModelServingSettings>;
}

/**
 * The per-model serving settings: stored as the admin's overrides on the model's row, merged with
 * defaults taken from the server settings and the execution plan. Read on every request, so the
 * parsed overrides are kept until the admin changes them.
 */
export class ModelServingSettingsService {
  private readonly parsed = new Map<string, { json: string; overrides: Partial<ModelServingSettings> }>();

  constructor(private readonly deps: { models: ModelRepository; server: () => Readonly<ServerSettings>; workers: number; intraOpThreads: number }) {}

  defaults(): ModelServingSettings {
    const server = this.deps.server();
    return {
      max_batch_size: server.batch_max_size,
      preferred_batch_sizes: [],
      max_queue_delay_micros: server.batch_max_queue_delay_micros,
      max_queue_size: server.batch_max_queue_size,
      timeout_micros: 0,
      min_instances: 1,
      max_instances: this.deps.workers,
      inline: true,
      idle_unload_seconds: server.model_idle_unload_seconds,
      // Off unless the admin turns it on for this model: payloads can hold personal data.
      log_payloads: false,
      payload_retention_days: server.payload_retention_days,
      provider: 'auto',
      intra_op_threads: this.deps.intraOpThreads,
      latency_objective_p95_ms: null,
      tuning_auto_apply: false,
      adaptive_remediation: false,
    };
  }

  /** A model that does not exist (yet: its first version is being placed) has none. */
  overrides(model: string): Partial<ModelServingSettings> {
    const row = this.deps.models.getModel(model);
    if (!row) return {};
    const cached = this.parsed.get(model);
    if (cached?.json === row.settings_json) return cached.overrides;
    // Written only through update(), so it always parses; anything else stored is ignored field by field.
    const stored = modelServingSchema.partial().safeParse(JSON.parse(row.settings_json));
    const overrides = stored.success ? stored.data : {};
    this.parsed.set(model, { json: row.settings_json, overrides });
    return overrides;
  }

  effective(model: string): ModelServingSettings {
    return { ...this.defaults(), ...this.overrides(model) };
  }

  view(model: string): ModelServingView {
    if (!this.deps.models.getModel(model)) throw inferboxError('IBX_ERR_MODEL_NOT_FOUND', model);
    return { effective: this.effective(model), overrides: this.overrides(model) };
  }

  /** Validates a partial update against the merged result (min ≤ max instances), then stores the overrides. */
  update(model: string, body: unknown): ModelServingView {
    if (!this.deps.models.getModel(model)) throw inferboxError('IBX_ERR_MODEL_NOT_FOUND', model);
    const update = parseRequest(updateSchema, body);
    const overrides: Record<string, unknown> = { ...this.overrides(model) };
    for (const [field, value] of Object.entries(update)) {
      if (value === null) delete overrides[field];
      else if (value !== undefined) overrides[field] = value;
    }
    const merged = { ...this.defaults(), ...overrides };
    if (merged.min_instances > merged.max_instances) {
      throw inferboxError('IBX_ERR_INVALID_REQUEST', `min_instances (${merged.min_instances}) is above max_instances (${merged.max_instances})`);
    }
    this.deps.models.setServingSettings(model, JSON.stringify(overrides));
    this.parsed.delete(model);
    return this.view(model);
  }
}
