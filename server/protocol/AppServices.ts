import type { Logger } from 'pino';
import type { ApiKeyService } from '../auth/ApiKeyService.js';
import type { FailedAuthThrottle } from '../auth/FailedAuthThrottle.js';
import type { KeyRateLimiter } from '../auth/KeyRateLimiter.js';
import type { BackupService } from '../backup/BackupService.js';
import type { ExperimentService } from '../experiments/ExperimentService.js';
import type { FirstRunState } from '../config/FirstRunState.js';
import type { SettingsService } from '../config/SettingsService.js';
import type { ModelServingSettingsService } from '../config/modelServingSettings.js';
import type { InferencePipeline } from '../serving/InferencePipeline.js';
import type { JsonDecodePool } from '../serving/JsonDecodePool.js';
import type { InferenceMetrics, MetricsSummaryRow } from '../metrics/InferenceMetrics.js';
import type { MetricsHistory } from '../metrics/MetricsHistory.js';
import type { PayloadService } from '../logging/PayloadService.js';
import type { JobService } from '../jobs/JobService.js';
import type { ModelCardService } from '../predict/ModelCardService.js';
import type { ModelRegistry } from '../registry/ModelRegistry.js';
import type { DecodeInputs, QuantizationJobs } from '../quantization/QuantizationJobs.js';
import type { LiveSampleRecorder } from '../quantization/LiveSampleRecorder.js';
import type { PlacementJobs } from '../placement/PlacementJobs.js';
import type { Store } from '../store/Store.js';
import type { TuningJobs } from '../tuning/TuningJobs.js';
import type { CapacityAdvisor } from '../tuning/CapacityAdvisor.js';
import type { TlsCertificates } from '../tls/TlsCertificates.js';
import type { WebhookService } from '../webhooks/WebhookService.js';

/** What the HTTP layer needs, built once in the composition root (startServer) and passed in. */
export interface AppServices {
  logger: Logger;
  store: Store;
  keys: ApiKeyService;
  /** Back-off and blocks per client address after failed authentication. */
  failedAuth: FailedAuthThrottle;
  /** Per-key token buckets. */
  rateLimiter: KeyRateLimiter;
  registry: ModelRegistry;
  /** A/B experiments: routing of unversioned requests, lifecycle, feedback, results. */
  experiments: ExperimentService;
  /**
   * The serving path of every inference protocol (REST OIP v2, REST predict, gRPC): experiments,
   * versions, batching, request log and metrics, W3C trace context and spans, payloads, live samples.
   */
  pipeline: InferencePipeline;
  /** Decodes large OIP JSON bodies off the HTTP thread. */
  decodePool: JsonDecodePool;
  /** The one metrics registry (the console's charts read its summary). */
  metrics: InferenceMetrics;
  /** The last minutes of the metrics summary, for the console's live charts. */
  metricsHistory: MetricsHistory<MetricsSummaryRow>;
  settings: SettingsService;
  /** Whether the console's first-run wizard is done. */
  firstRun: FirstRunState;
  /** Per-model batching, queue, instance and idle settings. */
  modelSettings: ModelServingSettingsService;
  quantization: QuantizationJobs;
  /** Where `auto` runs each version (CPU or WebGPU), by measurement. */
  placements: {
    jobs: PlacementJobs;
    /** Whether the model's versions are placed by measurement: provider `auto` on a CPU plan. */
    autoPlaced: (model: string) => boolean;
    /** Queues a measurement for every loaded version `auto` places that was never measured (when WebGPU is usable). */
    placeUnmeasured: () => void;
  };
  /** The built-in tuner: measured candidates per version, the choice, apply and revert. */
  tuning: TuningJobs;
  /** Each tuned model's live load against its measured capacity (the dashboard's headroom, the warning). */
  capacity: CapacityAdvisor;
  liveSamples: LiveSampleRecorder;
  /** Logged payloads and live samples: retention, export, erasure. */
  payloads: PayloadService;
  jobs: JobService;
  /** Backups of the data: make one now, list, download. */
  backups: BackupService;
  /** Webhook endpoints, events to them, their delivery logs. */
  webhooks: WebhookService;
  /** The serving certificate: status, upload, regeneration, renewal. */
  tls: TlsCertificates;
  /** Model cards: named features and labels for POST /api/predict and prediction jobs. */
  cards: ModelCardService;
  /** Checks OIP inputs against a signature (validation samples use the inference path's rules). */
  decodeInputs: DecodeInputs;
  /** GET /api/system body; computed on demand (the hardware probe may finish after start). */
  systemInfo: () => Record<string, unknown>;
  serverVersion: string;
  /** The admin console's built files (renderer/dist). */
  consoleDir: string;
}
