import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { ApiKeyService } from './auth/ApiKeyService.js';
import { BackupScheduler } from './backup/BackupScheduler.js';
import { BackupService } from './backup/BackupService.js';
import { createBackup } from './backup/createBackup.js';
import { FailedAuthThrottle } from './auth/FailedAuthThrottle.js';
import { KeyRateLimiter } from './auth/KeyRateLimiter.js';
import { snakeCaseKeys } from './common/snakeCaseKeys.js';
import { ensureAdminKey } from './auth/ensureAdminKey.js';
import { packageRoot, packageVersion } from './config/packageRoot.js';
import { grpcPortOf, modelMemoryBudgetBytes, resolveSettings, type ServerSettings, type SettingName } from './config/serverSettings.js';
import { FirstRunState } from './config/FirstRunState.js';
import { SettingsService } from './config/SettingsService.js';
import { ServerStateFile } from './config/ServerStateFile.js';
import { ModelServingSettingsService } from './config/modelServingSettings.js';
import { probeHardware, type HardwareProfile } from './hardware/probeHardware.js';
import { HardwareProfileCache } from './hardware/HardwareProfileCache.js';
import { WebGpuStatusCache } from './hardware/WebGpuStatusCache.js';
import type { WebGpuStatus } from './hardware/WebGpuStatus.js';
import { storageStatus } from './hardware/storageStatus.js';
import { modelExecution } from './hardware/modelExecution.js';
import { PlacementJobs } from './placement/PlacementJobs.js';
import { compareInChildProcess } from './runtime/compareInChildProcess.js';
import { storedSamples } from './quantization/storedSamples.js';
import { planExecution, type ExecutionPlan, type PlanOverrides, type ProviderAvailability } from './hardware/planExecution.js';
import { decodeInputs } from './serving/decodeInputs.js';
import { InferenceRecorder } from './serving/InferenceRecorder.js';
import { RetryingGrpcListener, type GrpcStatus } from './grpc/RetryingGrpcListener.js';
import { InferencePipeline } from './serving/InferencePipeline.js';
import { answerOip } from './serving/oipCodec.js';
import { JsonDecodePool } from './serving/JsonDecodePool.js';
import { JobRunner } from './jobs/JobRunner.js';
import { JobService } from './jobs/JobService.js';
import { ResponseCache } from './serving/ResponseCache.js';
import { PayloadService } from './logging/PayloadService.js';
import { RequestLogWriter } from './logging/RequestLogWriter.js';
import { InferenceMetrics } from './metrics/InferenceMetrics.js';
import { MetricsHistory } from './metrics/MetricsHistory.js';
import { ExperimentService } from './experiments/ExperimentService.js';
import { endedExperimentEvent } from './experiments/endedExperimentEvent.js';
import { createApp } from './protocol/createApp.js';
import { listen } from './protocol/listen.js';
import { serverUrls } from './protocol/serverUrls.js';
import { ModelCardService } from './predict/ModelCardService.js';
import { LiveSampleRecorder } from './quantization/LiveSampleRecorder.js';
import { QuantizationJobs } from './quantization/QuantizationJobs.js';
import { quantizationDecidedEvent } from './quantization/quantizationDecidedEvent.js';
import { ModelRegistry, type VersionView } from './registry/ModelRegistry.js';
import { detectProviders } from './runtime/detectProviders.js';
import { InferenceWorkerPool } from './runtime/InferenceWorkerPool.js';
import { estimateSessionBytes } from './runtime/estimateSessionBytes.js';
import { probeWebGpu, type WebGpuProbeOptions } from './runtime/probeWebGpu.js';
import { latestSchemaVersion } from './store/migrate.js';
import { readSchemaVersion } from './store/readSchemaVersion.js';
import { snapshotDatabase } from './store/snapshotDatabase.js';
import { Store } from './store/Store.js';
import { CertificateFile } from './tls/CertificateFile.js';
import { describeCertificate } from './tls/describeCertificate.js';
import { isLoopbackHost } from './tls/isLoopbackHost.js';
import { systemNetworkSource, type NetworkSource } from './tls/NetworkSource.js';
import { TlsCertificates } from './tls/TlsCertificates.js';
import { tlsWarnings } from './tls/tlsWarnings.js';
import { RequestTracer } from './tracing/RequestTracer.js';
import { AdaptiveRemediation, type AdaptiveRemediationDeps } from './tuning/AdaptiveRemediation.js';
import { CapacityAdvisor, type CapacityAdvisorDeps } from './tuning/CapacityAdvisor.js';
import { TuningJobs } from './tuning/TuningJobs.js';
import { WebhookDispatcher } from './webhooks/WebhookDispatcher.js';
import { WebhookService } from './webhooks/WebhookService.js';

export interface StartOptions {
  dataDir: string;
  /** Values from flags or environment variables: they win over saved settings for this run. */
  overrides?: Partial<Pick<ServerSettings, 'host' | 'port' | 'grpc_port' | 'tls'>>;
  /** Where the bundled default model lives (default: the package's models/); null: none is installed (the tuner's server). */
  bundledModelsDir?: string | null;
  /** Execution provider, worker instances and intra-op threads, instead of the hardware plan's. */
  execution?: PlanOverrides;
  /** The machine's host name and LAN addresses and their changes (default: the operating system's, polled). */
  network?: NetworkSource;
  /** How often a gRPC port that was taken at start is tried again (default 30 s). */
  grpcRetryMs?: number;
  /**
   * The WebGPU probe, run in the background once the server listens (see probeWebGpu): options for
   * it (tests hide the Vulkan drivers with `env`, or inject a hanging child with `command`), or
   * false for no probe, as the test helper does by default (each of its many servers would start
   * an onnxruntime child).
   */
  webgpuProbe?: false | Omit<WebGpuProbeOptions, 'modelPath' | 'signal'>;
  /** The capacity advisor's windows (default: a one-minute rate, five minutes sustained, a sample every 5 s); tests shorten them. */
  capacityAdvisor?: Pick<CapacityAdvisorDeps, 'windowMs' | 'sustainMs' | 'intervalMs'>;
  /** Adaptive remediation's windows (default: 30 s of p95 over the objective before a step, 60 s of low load before returning). */
  remediation?: Pick<AdaptiveRemediationDeps, 'sustainMs' | 'calmMs'>;
  logger?: Logger;
}

export interface RunningServer {
  urls: string[];
  port: number;
  /** Where the OIP v2 gRPC service listens now (`host:port`, as gRPC clients take it; TLS when the URLs are https); empty while gRPC is unavailable or off. */
  readonly grpcTargets: string[];
  /** The gRPC port now, or null while gRPC is unavailable or off. */
  readonly grpcPort: number | null;
  /** Whether gRPC listens, or why not (its port is taken: it is retried), or is off. */
  grpcStatus(): GrpcStatus | { state: 'off' };
  dataDir: string;
  adminKeyPath: string;
  /** The admin key, only on the start that created it (for the CLI to show once on a terminal). */
  createdAdminKey: string | null;
  /** The serving certificate's SHA-256 fingerprint now (it changes on renewal, upload, regeneration); null over plain HTTP. */
  readonly tlsFingerprint: string | null;
  /** TLS problems an admin must see (plain HTTP on the LAN, an uploaded certificate that misses a new address). */
  tlsWarnings(): string[];
  plan: ExecutionPlan;
  /** The serving numbers (the same registry /metrics and the console read). */
  metrics: InferenceMetrics;
  close(): Promise<void>;
}

const DATABASE_FILE = 'inferbox.db';
const DEFAULT_MODEL = { name: 'mlp', file: join('mlp', 'model.onnx'), samples: join('mlp', 'samples.json'), card: join('mlp', 'card.json') };
const DEFAULT_MODEL_INSTALLED = 'bootstrap.default_model_installed';
const HOUR_MS = 3_600_000;
/** How long after a start from the cached hardware profile the probe runs again (see HardwareProfileCache). */
const REPROBE_DELAY_MS = 3000;
/** Stored samples a placement measurement runs through both providers (all are timed in turn). */
const PLACEMENT_SAMPLES = 8;
/** A placement measurement that runs longer is ended (its child process killed): the version stays where it runs. */
const PLACEMENT_TIMEOUT_MS = 120_000;
/** XDG_RUNTIME_DIR of the WebGPU probe when the environment has none (see WebGpuProbeOptions.runtimeDir). */
const WEBGPU_RUNTIME_DIR = 'xdg-runtime';
/** The console's live charts: a sample every 2 s (its poll interval), three minutes kept. */
const METRICS_HISTORY = { intervalMs: 2000, capacity: 90 };
/** A gRPC port taken at start is tried again this often (the port may be held only for a while: a client's ephemeral port). */
const GRPC_RETRY_MS = 30_000;

/** Waits for the hardware probe only as long as the plan needs: a GPU matters only if its provider is installed. */
function probeForPlan(signal?: AbortSignal): Promise<HardwareProfile> {
  return probeHardware({ timeoutMs: detectProviders().cuda ? 3000 : 1000, ...(signal ? { signal } : {}) });
}

/**
 * The execution plan, from the last probe's profile when this machine has one in the data dir
 * (a restart does not wait for the probe: see HardwareProfileCache), else from a probe now.
 * `probedNow` says whether the profile is fresh; if not, the server probes again once it serves.
 */
async function planFromHardware(options: StartOptions, cache: HardwareProfileCache, providers: ProviderAvailability): Promise<{ profile: HardwareProfile; plan: ExecutionPlan; probedNow: boolean }> {
  const cached = cache.read();
  const profile = cached ?? (await probeForPlan());
  if (!cached) cache.write(profile);
  return { profile, plan: planExecution(profile, providers, options.execution), probedNow: !cached };
}

const samePlan = (a: ExecutionPlan, b: ExecutionPlan) =>
  a.provider === b.provider && a.instances === b.instances && a.intraOpThreads === b.intraOpThreads && a.interOpThreads === b.interOpThreads;

/**
 * Installs the bundled default model once (a default model the admin deleted stays deleted) with
 * its validation samples and its model card, and queues its int8 candidate through the same gate as any upload. A
 * missing bundled file (a broken package) is logged and retried on the next start; the server
 * still serves.
 */
async function installDefaultModel(deps: { registry: ModelRegistry; store: Store; cards: ModelCardService; quantization: QuantizationJobs; logger: Logger; maxBytes: number; modelsDir: string }): Promise<VersionView | null> {
  const path = join(deps.modelsDir, DEFAULT_MODEL.file);
  try {
    const source = createReadStream(path);
    await once(source, 'open'); // a missing file rejects here instead of an unhandled stream error ending the process
    const view = await deps.registry.addVersion({ name: DEFAULT_MODEL.name, source, maxBytes: deps.maxBytes, createdBy: 'bundled' });
    const { samples } = JSON.parse(await readFile(join(deps.modelsDir, DEFAULT_MODEL.samples), 'utf8')) as { samples: { inputs: unknown[] }[] };
    const now = new Date().toISOString();
    deps.store.quantization.addSamples(DEFAULT_MODEL.name, 'uploaded', samples.map((s) => s.inputs), now);
    deps.store.settings.setMany({ [DEFAULT_MODEL_INSTALLED]: true }, now);
    void deps.quantization.enqueue(view.name, view.version);
    await installDefaultCard(deps);
    return view;
  } catch (error) {
    deps.logger.error({ err: error, path }, 'could not install the bundled default model');
    return null;
  }
}

/**
 * The bundled model's card, checked like one saved from the console. A card that does not fit is a
 * broken package: logged, and the model still serves OIP v2 (it is not installed a second time).
 */
async function installDefaultCard(deps: { cards: ModelCardService; logger: Logger; modelsDir: string }): Promise<void> {
  const path = join(deps.modelsDir, DEFAULT_MODEL.card);
  try {
    deps.cards.save(DEFAULT_MODEL.name, undefined, JSON.parse(await readFile(path, 'utf8')), 'bundled');
  } catch (error) {
    deps.logger.error({ err: error, path }, 'could not install the bundled model card');
  }
}

/**
 * The composition root: opens the store, makes the keys, plans the runtime from the hardware,
 * restores the models, and serves OIP v2 and the admin API on one port (REST) and OIP v2 over gRPC
 * on another.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: process.env.INFERBOX_LOG_LEVEL ?? 'info' });
  const { dataDir } = options;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const hardwareCache = new HardwareProfileCache(dataDir);
  // The last start's WebGPU answer until this start's probe (after listening) replaces it.
  const webgpuCache = new WebGpuStatusCache(dataDir);
  let webgpu: WebGpuStatus | null = webgpuCache.read();
  let webgpuChecking = options.webgpuProbe !== false;
  const providers = () => detectProviders(process.platform, process.arch, webgpu);
  const hardware = planFromHardware(options, hardwareCache, providers());

  const databasePath = join(dataDir, DATABASE_FILE);
  // An upgrade keeps a copy of the data as the older version left it, before any migration runs
  // (always into <data-dir>/backups: an upgrade must not depend on another disk being mounted).
  // A newer version's database is refused here, untouched.
  const schemaVersion = readSchemaVersion(databasePath);
  if (schemaVersion !== null && schemaVersion > 0 && schemaVersion < latestSchemaVersion()) {
    const backup = await createBackup(
      { dataDir, appVersion: packageVersion(), snapshotDatabase: (destination) => snapshotDatabase(databasePath, destination) },
      join(dataDir, 'backups'),
      'pre-migration',
    );
    logger.info({ backup: backup.path, from: schemaVersion, to: latestSchemaVersion() }, 'backed up the data before migrating the database');
  }
  const store = Store.open(databasePath);
  const settings = resolveSettings(store.settings.getAll(), options.overrides ?? {});
  const overridden = Object.entries(options.overrides ?? {}).filter(([, value]) => value !== undefined).map(([name]) => name as SettingName);
  const settingsService = new SettingsService(store.settings, settings, overridden);
  // gRPC (grpc-js, protobufjs and the proto file: ~0.3 s of module loading) loads while the models
  // restore below, when this thread mostly waits for the workers, instead of before startServer runs.
  const wantedGrpcPort = grpcPortOf(settings);
  // Its .proto is parsed then too (~0.07 s), off the start's critical path; binds reuse it.
  const protoPath = join(packageRoot(), 'proto', 'grpc_predict_v2.proto');
  const grpcModule = wantedGrpcPort === null
    ? null
    : Promise.all([import('./grpc/startGrpcServer.js'), import('./grpc/loadInferenceService.js')]).then(([grpcServer, proto]) => {
        proto.loadInferenceService(protoPath);
        return grpcServer;
      });
  grpcModule?.catch(() => undefined); // awaited (and its failure reported) where gRPC starts
  const keys = new ApiKeyService(store.keys);
  const admin = await ensureAdminKey(keys, dataDir);
  const auditSystem = (action: string, target: string | null, details: Record<string, unknown> | null = null) =>
    store.audit.insert({ ts: new Date().toISOString(), actor_id: null, actor_name: 'system', action, target, details, remote_addr: null });
  if (admin.createdKey) auditSystem('key.create', admin.createdKeyId, { name: 'admin', scopes: ['admin'], reason: 'no usable admin key: first start, or every admin key revoked' });

  const useTls = settings.tls === 'on' || (settings.tls === 'auto' && !isLoopbackHost(settings.host));
  const network = options.network ?? systemNetworkSource();
  const certificates = new TlsCertificates({
    file: new CertificateFile(dataDir),
    network,
    bindHost: settings.host,
    https: useTls,
    onRenewed: (stored) => {
      const { fingerprintSha256 } = describeCertificate(stored.cert);
      auditSystem('tls.renew', fingerprintSha256, { reason: stored.lastChange.reason, hostname: stored.network.hostname, addresses: stored.network.addresses });
      logger.warn({ fingerprint: fingerprintSha256, reason: stored.lastChange.reason }, 'TLS certificate renewed (same key: pinned public keys keep working, pinned fingerprints change)');
    },
    onError: (error) => logger.error({ err: error }, 'TLS certificate renewal failed; the current certificate keeps serving'),
  });
  const tls = await certificates.load();
  const currentFingerprint = () => (useTls ? certificates.status().certificate?.fingerprintSha256 ?? null : null);
  const currentWarnings = () => tlsWarnings(certificates.status(), settings.host);
  for (const warning of currentWarnings()) logger.warn(warning);

  const { plan, probedNow } = await hardware;
  let { profile } = await hardware;
  for (const reason of plan.reasons) logger.debug({ plan: reason }, 'execution plan');
  const memoryBudget = () => modelMemoryBudgetBytes(settingsService.current, totalmem());
  const pool = new InferenceWorkerPool(
    { instances: plan.instances, executionProviders: plan.executionProviders, intraOpThreads: plan.intraOpThreads, interOpThreads: plan.interOpThreads },
    (reason) => logger.error(reason),
    memoryBudget,
    ({ message, ...where }) => logger.warn({ ...where, reason: message }, `model ${where.model}/${where.version}: ${where.kind}`),
  );
  // Webhooks first: experiments and quantization report to them. Deliveries start after listening.
  const dispatcher = new WebhookDispatcher({
    repository: store.webhooks,
    settings: () => {
      const s = settingsService.current;
      return { maxAttempts: s.webhook_max_attempts, retryInitialSeconds: s.webhook_retry_initial_seconds, retryMaxSeconds: s.webhook_retry_max_seconds, timeoutSeconds: s.webhook_timeout_seconds };
    },
    userAgent: `Inferbox-Webhooks/${packageVersion()}`,
    onError: (error) => logger.error({ err: error }, 'webhook delivery bookkeeping failed'),
  });
  const webhooks = new WebhookService({
    repository: store.webhooks,
    notify: () => dispatcher.notify(),
    onError: (error, type) => logger.error({ err: error, event: type }, 'could not queue a webhook event'),
  });
  // Before the registry, which asks it which versions running experiments use; it reaches the
  // registry and the log writer only later, per request.
  const experiments: ExperimentService = new ExperimentService({
    repository: store.experiments,
    model: (name) => registry.getModel(name),
    activate: (model, version) => registry.activate(model, version),
    requestExperiment: (requestId) => {
      logWriter.flushAndWait(); // feedback may follow its request within the log's write delay
      return store.requestLog.experimentOfRequest(requestId);
    },
    auditSystem: (action, target, details) => auditSystem(action, target, details),
    onError: (error, experimentId) => logger.error({ err: error, experiment: experimentId }, 'experiment bookkeeping failed'),
    onEnded: (ended) => webhooks.emit(ended.outcome === 'rolled_back' ? 'experiment.rolled_back' : 'experiment.completed', endedExperimentEvent(ended)),
  });
  const modelSettings = new ModelServingSettingsService({ models: store.models, server: () => settingsService.current, workers: pool.instances, intraOpThreads: plan.intraOpThreads });
  const metrics = new InferenceMetrics();
  /** Whether `auto` places a model's versions by measurement: its provider setting is `auto` and the plan runs on the CPU. */
  const placedByMeasurement = (provider: string) => provider === 'auto' && plan.provider === 'cpu';
  const registry = new ModelRegistry({
    models: store.models,
    serving: {
      pool,
      cache: new ResponseCache(() => settingsService.current.cache_max_bytes),
      batching: (model) => {
        const chosen = modelSettings.effective(model);
        return {
          maxBatchSize: chosen.max_batch_size,
          preferredBatchSizes: chosen.preferred_batch_sizes,
          maxQueueDelayMicros: chosen.max_queue_delay_micros,
          maxQueueSize: chosen.max_queue_size,
          timeoutMicros: chosen.timeout_micros,
        };
      },
      cacheEnabled: (model) => store.models.getModel(model)?.cache_enabled === 1,
      onExecuted: (model, version) => metrics.executionCounter(model, version),
    },
    dataDir,
    runtimeSettings: (model, version) => {
      const chosen = modelSettings.effective(model);
      // `auto` follows the plan; on a CPU plan, a version that measured faster on WebGPU runs there (placements).
      const provider = placedByMeasurement(chosen.provider) && placements.providerOf(model, version) === 'webgpu' ? 'webgpu' : chosen.provider;
      const session = modelExecution(plan, { provider, intraOpThreads: chosen.intra_op_threads });
      return { minInstances: chosen.min_instances, maxInstances: chosen.max_instances, inline: chosen.inline, idleUnloadSeconds: chosen.idle_unload_seconds, ...(session ? { session } : {}) };
    },
    versionInUse: (model, version) => experiments.versionInUse(model, version),
    routedVersions: () => experiments.runningVariants(),
  });
  const autoPlaced = (model: string) => placedByMeasurement(modelSettings.effective(model).provider);
  const gateThresholds = () => ({
    minTop1: settingsService.current.int8_min_top1_agreement,
    minCosine: settingsService.current.int8_min_cosine,
    minSpeedup: settingsService.current.int8_min_speedup,
  });
  const placements = new PlacementJobs({
    repository: store.placements,
    target: (name, version) => {
      const view = registry.getVersion(name, version);
      const files = registry.filesOf(name, version);
      return { path: view.served_precision === 'int8' ? files.int8 : files.fp32, inputs: view.inputs, outputs: view.outputs };
    },
    samples: async (signature) => (await storedSamples(store.quantization, decodeInputs, signature, PLACEMENT_SAMPLES)).samples,
    compare: (request, signal) => compareInChildProcess(request, { timeoutMs: PLACEMENT_TIMEOUT_MS, signal }),
    webgpuUnavailable: () => (providers().webgpu === true ? null : webgpu?.reason ?? 'the WebGPU probe has not answered yet'),
    apply: async (name) => { await registry.applyExecution(name); },
    thresholds: gateThresholds,
    intraOpThreads: (name) => modelSettings.effective(name).intra_op_threads,
    onError: (error, job) => logger.error({ err: error, job }, 'placement measurement failed; the version stays where it runs'),
  });
  /** Measures every loaded version `auto` may place and never measured (WebGPU just found usable, or a start). */
  const placeUnmeasured = () => {
    if (providers().webgpu !== true) return;
    for (const model of registry.listModels()) {
      if (!autoPlaced(model.name)) continue;
      for (const v of model.versions) if (v.state === 'ready' && !placements.measured(model.name, v.version)) void placements.enqueue(model.name, v.version);
    }
  };
  await registry.restore();
  const quantization = new QuantizationJobs({
    repository: store.quantization,
    target: (name, version) => {
      const view = registry.getVersion(name, version);
      return { inputs: view.inputs, outputs: view.outputs, files: registry.filesOf(name, version), precisionOverride: view.precision_override, servedPrecision: view.served_precision };
    },
    serve: async (name, version, precision) => { await registry.setServedPrecision(name, version, precision); },
    decodeInputs,
    thresholds: gateThresholds,
    // The comparison runs in a thread of its own beside the serving workers, and two threads running
    // WebGPU at once crash onnxruntime-node (see InferenceWorkerPool): a WebGPU plan is compared on the CPU.
    execution: { executionProviders: plan.executionProviders.includes('webgpu') ? ['cpu'] : plan.executionProviders, intraOpThreads: plan.intraOpThreads },
    onError: (error, job) => logger.error({ err: error, job }, 'int8 candidate failed; the version keeps serving fp32'),
    onDecided: (name, version, report) => webhooks.emit('quantization.decided', quantizationDecidedEvent(name, version, report)),
  });
  quantization.resume();
  const tuning = new TuningJobs({
    repository: store.tuning,
    target: (name, version) => {
      const view = registry.getVersion(name, version);
      const job = store.quantization.getJob(name, version);
      const forced = modelSettings.effective(name).provider;
      return {
        file: registry.filesOf(name, version).fp32,
        inputs: view.inputs,
        servedPrecision: view.served_precision,
        precisionOverride: view.precision_override,
        int8Allowed: job?.status === 'done' && job.report?.decision === 'int8',
        provider: forced === 'auto' ? placements.providerOf(name, version) : forced === 'webgpu' ? 'webgpu' : 'cpu',
        // Unmeasured (a version from before migration 014): the pool's own estimate from the file size.
        sessionBytes: view.session_bytes ?? estimateSessionBytes(view.size_bytes),
      };
    },
    settings: { effective: (model) => modelSettings.effective(model), overrides: (model) => modelSettings.overrides(model), update: (model, body) => modelSettings.update(model, body) },
    applyExecution: (model) => registry.applyExecution(model),
    setPrecision: (name, version, served, override) => registry.setServedPrecision(name, version, served, override),
    samples: async (signature) => (await storedSamples(store.quantization, decodeInputs, signature, PLACEMENT_SAMPLES)).samples,
    execution: { provider: plan.provider, instances: plan.instances, intraOpThreads: plan.intraOpThreads },
    cores: availableParallelism(),
    webgpuAvailable: () => providers().webgpu === true,
    bytesLeft: () => {
      const budget = memoryBudget();
      return Number.isFinite(budget) ? Math.max(0, budget - pool.estimatedBytes()) : null;
    },
    onFinished: (name, version, row) => {
      logger.info({ model: name, version, status: row.status, choice: row.choice, applied: row.applied_id }, 'tuning run finished');
      if (row.applied_id !== null) auditSystem('model.tuning.apply', `${name}/${version}`, { candidate: row.applied_id, automatic: true });
    },
    onError: (error, job) => logger.error({ err: error, job }, 'tuning failed; the version keeps its settings'),
  });
  const cards = new ModelCardService({ cards: store.cards, registry });
  if (options.bundledModelsDir !== null && store.settings.getAll()[DEFAULT_MODEL_INSTALLED] !== true) {
    const installed = await installDefaultModel({ registry, store, cards, quantization, logger, maxBytes: settings.max_model_bytes, modelsDir: options.bundledModelsDir ?? join(packageRoot(), 'models') });
    if (installed) auditSystem('model.upload', `${installed.name}/${installed.version}`, { sha256: installed.sha256, source: 'bundled default model' });
  }

  const liveSamples = new LiveSampleRecorder(store.quantization);
  const payloads = new PayloadService({
    payloads: store.payloads,
    samples: store.quantization,
    retentionDays: (model) => modelSettings.effective(model).payload_retention_days,
    truncateWal: () => store.truncateWal(),
    onLiveSamplesErased: () => liveSamples.forgetAll(),
  });
  const logWriter = new RequestLogWriter(store, (error, dropped) => logger.error({ err: error, dropped }, 'request log write failed'));
  const startedAt = new Date();
  let port = 0;
  let grpc: RetryingGrpcListener | null = null;
  const currentUrls = () => serverUrls({ host: settings.host, port, https: useTls, names: network.current() });
  const currentGrpcStatus = (): GrpcStatus | { state: 'off' } => grpc?.status() ?? { state: 'off' };
  const currentGrpcPort = () => {
    const status = currentGrpcStatus();
    return status.state === 'up' ? status.port : null;
  };
  // gRPC clients take host:port; TLS or not follows the REST URLs.
  const currentGrpcTargets = () => {
    const grpcPort = currentGrpcPort();
    return grpcPort === null ? [] : serverUrls({ host: settings.host, port: grpcPort, https: useTls, names: network.current() }).map((url) => url.replace(/^https?:\/\//, ''));
  };
  const activeVersion = (model: string) => registry.getModel(model).active_version;
  const remediation = new AdaptiveRemediation({
    enabled: (model) => modelSettings.effective(model).adaptive_remediation,
    plan: (model) => {
      const active = activeVersion(model);
      return active === null ? null : tuning.remediationPlan(model, active);
    },
    stepTo: (model, version, id, reason) => tuning.stepTo(model, version, id, reason),
    end: (model, version) => tuning.endRemediation(model, version),
    calmRatio: () => settingsService.current.capacity_warning_ratio,
    onEvent: (event) => {
      logger.warn(event, `adaptive remediation: ${event.model} ${event.action === 'step' ? `steps to '${event.to}'` : `returns to '${event.to}'`}`);
      auditSystem(`model.remediation.${event.action}`, `${event.model}/${event.version}`, { ...event });
      webhooks.emit('capacity.remediation', { ...event });
    },
    onError: (error, model) => logger.error({ err: error, model }, 'adaptive remediation could not change the serving'),
    ...options.remediation,
  });
  const capacity = new CapacityAdvisor({
    requestCounts: () => metrics.summary(),
    models: () => registry.listModels().map((m) => m.name),
    capacity: (model) => {
      const active = activeVersion(model);
      return active === null ? null : tuning.measuredCapacity(model, active);
    },
    onSample: (statuses) => remediation.observe(statuses),
    warningRatio: () => settingsService.current.capacity_warning_ratio,
    onWarning: (status) => {
      logger.warn({ model: status.model, load_rps: status.load_rps, capacity_rps: status.capacity_rps, ratio: status.ratio }, 'a model runs near its measured capacity');
      webhooks.emit('capacity.warning', { ...status, warning_ratio: settingsService.current.capacity_warning_ratio });
    },
    ...options.capacityAdvisor,
  });
  metrics.attachServingState({
    queueDepths: () => registry.servedVersions().filter((served) => served.batcher.queued > 0).map((served) => ({ model: served.name, version: served.version, depth: served.batcher.queued })),
    versions: () => registry.listModels().flatMap((m) => m.versions.map((v) => ({ model: m.name, version: v.version, loaded: v.state === 'ready', instances: v.placement?.workers ?? 0 }))),
    workerThreads: () => pool.instances,
    grpcUp: () => currentGrpcPort() !== null,
    capacityRatios: () => capacity.status().map((c) => ({ model: c.model, ratio: c.ratio })),
  });
  const metricsHistory = new MetricsHistory(() => metrics.summary(), METRICS_HISTORY);
  const tracer = new RequestTracer({
    settings: () => ({ endpoint: settingsService.current.otlp_traces_endpoint, sampleRatio: settingsService.current.tracing_sample_ratio }),
    serviceVersion: packageVersion(),
    onError: (error, message) => logger.warn({ err: error }, message),
  });
  await tracer.ready();
  const jobRunner = new JobRunner({
    repository: store.jobs,
    inference: { resolve: (model, version) => registry.resolveServing(model, version), infer: answerOip },
    interactiveInFlight: () => pipeline.interactiveInFlight,
    onError: (error, job) => logger.error({ err: error, job }, 'async job error'),
  });
  const jobs = new JobService({
    repository: store.jobs,
    resolve: (model, version) => registry.resolveServing(model, version),
    maxItems: () => settingsService.current.job_max_items,
    planFor: (served) => cards.planFor(served),
    notify: () => jobRunner.notify(),
  });
  // Read at each failure, so a changed setting applies to the next one; one audit row per back-off
  // streak or block, never per attempt, so a flood cannot fill the disk.
  const failedAuth = new FailedAuthThrottle(
    () => {
      const s = settingsService.current;
      return {
        failuresBeforeBackoff: s.auth_failures_before_backoff,
        backoffInitialSeconds: s.auth_backoff_initial_seconds,
        backoffMaxSeconds: s.auth_backoff_max_seconds,
        blockAfterFailures: s.auth_block_after_failures,
        blockSeconds: s.auth_block_seconds,
        halfLifeSeconds: s.auth_failure_half_life_seconds,
      };
    },
    (event) => {
      logger.warn({ address: event.address, failures: event.failures, seconds: event.seconds }, event.kind === 'block' ? 'address blocked after failed authentication' : 'address backing off after failed authentication');
      store.audit.insert({
        ts: new Date().toISOString(),
        actor_id: null,
        actor_name: 'system',
        action: event.kind === 'block' ? 'security.auth_block' : 'security.auth_backoff',
        target: event.address,
        details: { failures: event.failures, seconds: event.seconds },
        remote_addr: event.address,
      });
    },
  );
  const rateLimiter = new KeyRateLimiter();
  // One inference path for REST (OIP v2, predict) and gRPC: experiments, request log, metrics, tracing, payloads, live samples.
  const pipeline = new InferencePipeline({
    versions: registry,
    experiments,
    recorder: new InferenceRecorder(metrics, logWriter),
    tracer,
    logsPayloads: (model) => modelSettings.effective(model).log_payloads,
    liveSamples,
  });
  const decodePool = new JsonDecodePool({ onWorkerLost: (reason) => logger.error(reason) });
  const backups = new BackupService(
    { dataDir, appVersion: packageVersion(), snapshotDatabase: (destination) => logWriter.whileSuspended(() => store.backupTo(destination)) },
    () => ({ directory: settingsService.current.backup_dir, intervalHours: settingsService.current.backup_interval_hours, keep: settingsService.current.backup_keep }),
  );
  const backupScheduler = new BackupScheduler(backups, {
    onCreated: (file) => auditSystem('backup.create', file.name, { reason: file.reason, size_bytes: file.size_bytes }),
    onError: (error) => logger.error({ err: error }, 'scheduled backup failed; the next check tries again'),
  });
  const app = createApp({
    logger,
    store,
    keys,
    failedAuth,
    rateLimiter,
    registry,
    experiments,
    pipeline,
    decodePool,
    metrics,
    metricsHistory,
    settings: settingsService,
    firstRun: new FirstRunState(store.settings),
    modelSettings,
    quantization,
    placements: { jobs: placements, autoPlaced, placeUnmeasured },
    tuning,
    capacity,
    liveSamples,
    payloads,
    jobs,
    backups,
    webhooks,
    tls: certificates,
    cards,
    decodeInputs,
    serverVersion: packageVersion(),
    consoleDir: join(packageRoot(), 'renderer', 'dist'),
    systemInfo: () => ({
      name: 'inferbox',
      version: packageVersion(),
      started_at: startedAt.toISOString(),
      uptime_s: Math.round((Date.now() - startedAt.getTime()) / 1000),
      data_dir: dataDir,
      urls: currentUrls(),
      grpc_targets: currentGrpcTargets(),
      grpc: snakeCaseKeys({ ...currentGrpcStatus(), targets: currentGrpcTargets() }),
      tls: { enabled: useTls, fingerprint_sha256: currentFingerprint(), plain_http_on_lan: certificates.status().plainHttpOnLan, warnings: currentWarnings() },
      hardware: snakeCaseKeys(profile),
      execution_plan: snakeCaseKeys(plan),
      providers: providers(),
      webgpu: {
        checking: webgpuChecking,
        ...(snakeCaseKeys(webgpu ?? { available: false, reason: webgpuChecking ? 'not checked yet: the probe runs in the background' : 'not checked: the WebGPU probe is off for this run', adapter: null, maxAbsDiff: null, checkedAt: null, durationMs: null }) as object),
      },
      storage: storageStatus(dataDir, settingsService.current.disk_low_space_warning_bytes, logWriter.failure),
      memory: { model_budget_bytes: memoryBudget(), models_estimated_bytes: pool.estimatedBytes(), total_bytes: totalmem() },
    }),
  });
  let listening: Awaited<ReturnType<typeof listen>> | undefined;
  try {
    listening = await listen(app, { host: settings.host, port: settings.port, tls });
    if (wantedGrpcPort !== null && grpcModule) {
      const { startGrpcServer } = await grpcModule;
      grpc = await RetryingGrpcListener.start({
        port: wantedGrpcPort,
        tls,
        // Only a port named for this run may stop the start: a saved one could not be changed
        // from the console if the server did not come up, and auto is a guess (REST + 1).
        required: typeof options.overrides?.grpc_port === 'number',
        bind: (grpcPort, grpcTls) =>
          startGrpcServer({
            host: settings.host,
            port: grpcPort,
            tls: grpcTls,
            protoPath,
            maxMessageBytes: settings.max_infer_body_bytes,
            maxInferBytes: () => settingsService.current.max_infer_body_bytes,
            access: { keys, failedAuth, rateLimiter, settings: settingsService, metrics },
            registry,
            pipeline,
            serverVersion: packageVersion(),
            onBug: (error, method) => logger.error({ err: error, method }, 'unexpected error in a gRPC call'),
          }),
        retryMs: options.grpcRetryMs ?? GRPC_RETRY_MS,
        onRetry: (status, error) => {
          if (status.state === 'up') logger.info({ grpc_port: status.port }, 'gRPC is up: its port was free on a retry');
          else logger.debug({ err: error }, 'gRPC port still unavailable; trying again later');
        },
      });
      const status = grpc.status();
      if (status.state === 'unavailable') logger.warn({ grpc_port: status.port, retry_s: status.retryIntervalSeconds }, `gRPC unavailable, REST serves: ${status.reason}`);
    }
  } catch (error) {
    // Nothing may outlive a failed start (the desktop app retries with other settings).
    if (listening) await new Promise((resolve) => listening!.server.close(resolve));
    await quantization.close();
    placements.close();
    tuning.close();
    await pool.close();
    await decodePool.close();
    await tracer.close();
    experiments.close();
    logWriter.close();
    await dispatcher.close();
    store.close();
    throw error;
  }
  const { server, setCertificate } = listening;
  port = listening.port;
  // Both listeners serve every new certificate from their next handshake on (gRPC also once a retry binds).
  if (setCertificate) certificates.attach((pair) => { setCertificate(pair); grpc?.setCertificate(pair); });
  // Jobs a stop or crash interrupted resume first, then new ones in order.
  jobRunner.start();
  backupScheduler.start();
  // Tuning runs a stop interrupted go on with the candidates they had not measured.
  tuning.resumeInterrupted();
  const stateFile = new ServerStateFile(dataDir);
  stateFile.write({ pid: process.pid, version: packageVersion(), started_at: startedAt.toISOString(), urls: currentUrls(), tls_fingerprint: currentFingerprint() });
  metricsHistory.start();
  capacity.start();
  // Deliveries a stop or crash left pending go out again.
  dispatcher.start();

  const purge = () => {
    const before = new Date(Date.now() - settingsService.current.log_retention_days * 24 * HOUR_MS).toISOString();
    store.requestLog.purgeBefore(before);
    store.jobs.purgeFinishedBefore(before);
    store.webhooks.purgeFinishedBefore(before);
    // Payloads have their own, shorter window per model; a failed purge is retried next hour.
    return payloads.purgeExpired().catch((error: unknown) => logger.error({ err: error }, 'payload purge failed'));
  };
  await Promise.resolve().then(purge).catch((error: unknown) => logger.error({ err: error }, 'log purge failed')); // a full disk must not stop the start
  // Timers must not throw: an exception there ends the process, and a full disk (SQLITE_FULL) is
  // a condition to report, not a reason to stop serving.
  const guarded = (what: string, task: () => unknown) => () => {
    try {
      void Promise.resolve(task()).catch((error: unknown) => logger.error({ err: error }, `${what} failed`));
    } catch (error) {
      logger.error({ err: error }, `${what} failed`);
    }
  };
  // A plan from the cached profile: probe again once serving (not while the first requests and
  // model loads want the CPU), for /api/system and the next start's plan.
  const reprobe = new AbortController();
  const reprobeTimer = probedNow ? undefined : setTimeout(() => {
    probeForPlan(reprobe.signal).then((fresh) => {
      if (reprobe.signal.aborted) return;
      hardwareCache.write(fresh);
      profile = fresh;
      const next = planExecution(fresh, providers(), options.execution);
      if (!samePlan(next, plan)) logger.info({ plan: snakeCaseKeys(plan), next: snakeCaseKeys(next) }, 'the hardware probe found changes: the next start plans the workers from them');
    }, (error: unknown) => logger.warn({ err: error }, 'hardware probe failed'));
  }, REPROBE_DELAY_MS);
  reprobeTimer?.unref();
  // WebGPU: a child process creates a session on it (a driver crash or hang there is a reason, not
  // a crash here), off the start's critical path. With no earlier answer it runs at once (the
  // first-run wizard shows it); otherwise after the same delay as the hardware reprobe.
  const webgpuStop = new AbortController();
  const webgpuOptions = options.webgpuProbe;
  const webgpuTimer = webgpuOptions === false ? undefined : setTimeout(() => {
    const modelPath = join(options.bundledModelsDir ?? join(packageRoot(), 'models'), DEFAULT_MODEL.file);
    void probeWebGpu({ runtimeDir: join(dataDir, WEBGPU_RUNTIME_DIR), ...webgpuOptions, modelPath, signal: webgpuStop.signal }).then((fresh) => {
      if (webgpuStop.signal.aborted) return;
      webgpu = fresh;
      webgpuChecking = false;
      try {
        webgpuCache.write(fresh);
      } catch (error) {
        logger.warn({ err: error }, 'could not save the WebGPU probe result');
      }
      if (fresh.available) {
        logger.info({ adapter: fresh.adapter, duration_ms: fresh.durationMs }, 'WebGPU is available: models on `auto` are measured on it, and run there only where it is faster');
        placeUnmeasured();
      }
      else logger.info({ reason: fresh.reason, duration_ms: fresh.durationMs }, `WebGPU is unavailable: ${fresh.reason}`);
    });
  }, webgpu ? REPROBE_DELAY_MS : 0);
  webgpuTimer?.unref();
  const maintenance = setInterval(guarded('log purge', purge), HOUR_MS);
  const keyFlush = setInterval(guarded('writing key last-used times', () => keys.flushLastUsed()), 5000);
  const idleSweep = setInterval(() => registry.unloadIdle(), 1000);
  maintenance.unref();
  keyFlush.unref();
  idleSweep.unref();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearTimeout(reprobeTimer);
      reprobe.abort();
      clearTimeout(webgpuTimer);
      webgpuStop.abort();
      clearInterval(maintenance);
      clearInterval(keyFlush);
      clearInterval(idleSweep);
      metricsHistory.close();
      capacity.close();
      certificates.close();
      // Jobs take no new items from now on; the items in flight commit their results before the
      // pool closes, and the rest run after the next start.
      const jobsStopped = jobRunner.close();
      const backupStopped = backupScheduler.close();
      // No new connections or calls; requests and calls in flight finish (their connections close
      // after the answer) unless they outlast the drain timeout.
      await Promise.all([
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), settingsService.current.shutdown_drain_seconds * 1000).unref();
        }),
        grpc?.close(settingsService.current.shutdown_drain_seconds * 1000),
      ]);
      await jobsStopped;
      await backupStopped;
      await dispatcher.close();
      await quantization.close();
      placements.close();
      tuning.close();
      await pool.close();
      await decodePool.close();
      await tracer.close(); // after the last request: its spans are exported
      experiments.close(); // after the pool: mirrored requests still in flight are counted first
      logWriter.close();
      keys.flushLastUsed();
      store.close();
      stateFile.remove();
    })());

  return {
    urls: currentUrls(),
    port,
    get grpcTargets() { return currentGrpcTargets(); },
    get grpcPort() { return currentGrpcPort(); },
    grpcStatus: currentGrpcStatus,
    dataDir,
    adminKeyPath: admin.path,
    createdAdminKey: admin.createdKey,
    get tlsFingerprint() { return currentFingerprint(); },
    tlsWarnings: currentWarnings,
    plan,
    metrics,
    close,
  };
}
