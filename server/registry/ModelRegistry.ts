import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import type { TensorSpec } from '../common/datatypes.js';
import { inferboxError, messageOf } from '../common/errors.js';
import { assertModelName, assertVersion } from '../common/names.js';
import type { Placement, PlacementStatus } from '../runtime/InferenceWorkerPool.js';
import type { SessionCost } from '../runtime/sessionCost.js';
import type { LoadResult } from '../runtime/workerProtocol.js';
import { ServedVersion, type ServedVersionDeps } from '../serving/ServedVersion.js';
import type { ModelRepository, ModelVersionRow, Precision } from '../store/ModelRepository.js';
import { signatureFromMetadata } from './signatureFromMetadata.js';
import type { VersionMetadata } from './versionMetadata.js';
import { writeUploadToFile } from './writeUploadToFile.js';

/**
 * Lifecycle of a version in this process (what the admin asked for is `desired_state` in the store).
 * `idle`: unloaded after going unused for its idle time; the next request loads it again.
 */
export type VersionState = 'loading' | 'ready' | 'unloading' | 'unloaded' | 'idle' | 'failed';

export type { ServedVersion };

/** A version's lifecycle in this process, and the object that serves it while it is ready. */
interface RuntimeStatus {
  state: VersionState;
  /** Present exactly while the state is 'ready': the one owner of its sessions, batcher and cached answers. */
  served?: ServedVersion | undefined;
  fallbackReason?: string | undefined;
  error?: string | undefined;
}

export interface VersionView extends Omit<ModelVersionRow, 'model_name' | 'file_path'> {
  name: string;
  state: VersionState;
  active: boolean;
  platform: 'onnxruntime_onnx';
  execution_provider: string | null;
  fallback_reason: string | null;
  error: string | null;
  /** Where it runs now: workers holding it, whether on the HTTP thread, its average run time. */
  placement: PlacementStatus | null;
}

/** Per-model runtime choices the registry applies (from the model's serving settings). */
export interface ModelRuntimeSettings extends Placement {
  /** Unload after this long without a request, load again on the next one (0 = never). */
  idleUnloadSeconds: number;
}

export interface ModelView {
  name: string;
  active_version: string | null;
  created_at: string;
  cache_enabled: boolean;
  versions: VersionView[];
}

/** An upload on disk, not yet checked (placing it does that, off the HTTP thread) nor a version. */
export interface ReceivedUpload {
  tempFile: string;
  sha256: string;
  sizeBytes: number;
}

export interface PlaceOptions {
  activate?: boolean;
  createdBy?: string | null;
  metadata?: VersionMetadata;
}

export interface RegistryDeps {
  models: ModelRepository;
  /** What each served version needs: the worker pool, the response cache, batching settings. */
  serving: ServedVersionDeps;
  dataDir: string;
  /** Read at every decision, so the admin's changes apply without a reload. */
  runtimeSettings?: (model: string, version: string) => ModelRuntimeSettings;
  /**
   * Why a version must not be unloaded, deleted or replaced as the active one now (a running A/B
   * experiment serves it), or null. The registry does not know experiments; the composition root
   * wires this in.
   */
  versionInUse?: (model: string, version: string) => string | null;
  /** The versions running A/B experiments route requests to (their variants): server readiness needs them served. */
  routedVersions?: () => { model: string; version: string }[];
  now?: () => Date;
}

const DEFAULT_RUNTIME_SETTINGS: ModelRuntimeSettings = { minInstances: 1, maxInstances: Number.MAX_SAFE_INTEGER, inline: true, idleUnloadSeconds: 0 };

const keyOf = (name: string, version: string) => `${name}/${version}`;

/** The session key's label for a model's own execution settings ("webgpu,cpu×2"); undefined when it has none. */
const executionLabel = (settings: ModelRuntimeSettings): string | undefined =>
  settings.session ? `${settings.session.executionProviders.join(',')}×${settings.session.intraOpThreads}` : undefined;
const MODEL_FILE = 'model.onnx';
/** Uploads in progress; whatever a crash left here is removed on the next start. */
const INCOMING = '.incoming';
/** The int8 candidate lives beside the original: a second precision of the same version, not a new version. */
const INT8_FILE = 'model.int8.onnx';

/**
 * Models on disk (`<data-dir>/models/<name>/<version>/model.onnx`), their rows in SQLite and their
 * sessions in the runtime, kept in step. Changes to one model are serialized, so two uploads
 * never get the same version number and a delete never races a load.
 */
export class ModelRegistry {
  private readonly status = new Map<string, RuntimeStatus>();
  /** Versions an idle unload has been queued for. */
  private readonly idleUnloads = new Set<string>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly now: () => Date;

  constructor(private readonly deps: RegistryDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  private get modelsDir(): string {
    return join(this.deps.dataDir, 'models');
  }

  /** Runs `task` after every earlier change to the same model has finished. */
  private serialize<T>(name: string, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.then(() => undefined, () => undefined);
    this.locks.set(name, settled);
    void settled.then(() => { if (this.locks.get(name) === settled) this.locks.delete(name); });
    return next;
  }

  /** Loads every version the admin left loaded; one that fails is marked failed, the rest still serve. */
  async restore(): Promise<void> {
    await rm(join(this.modelsDir, INCOMING), { recursive: true, force: true });
    const rows = this.deps.models.listAllVersions();
    await this.removeUnrecorded(rows);
    for (const row of rows) this.status.set(keyOf(row.model_name, row.version), { state: row.desired_state === 'loaded' ? 'loading' : 'unloaded' });
    await Promise.all(rows.filter((r) => r.desired_state === 'loaded').map((row) => this.loadRow(row).catch(() => undefined)));
  }

  /**
   * A crash (power cut, kill -9) between placing a version's folder and committing its row, or
   * while an int8 candidate was being written, leaves files no row vouches for: the upload was
   * never acknowledged, so they go (nothing half-present; the version number is free again).
   */
  private async removeUnrecorded(rows: ModelVersionRow[]): Promise<void> {
    const recorded = new Set(rows.map((row) => dirname(join(this.deps.dataDir, row.file_path))));
    const list = (dir: string) => readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const model of await list(this.modelsDir)) {
      if (!model.isDirectory() || model.name === INCOMING) continue;
      for (const version of await list(join(this.modelsDir, model.name))) {
        const dir = join(this.modelsDir, model.name, version.name);
        if (!recorded.has(dir)) await rm(dir, { recursive: true, force: true });
        else await rm(join(dir, `${INT8_FILE}.tmp`), { force: true });
      }
      if (!rows.some((row) => row.model_name === model.name)) await rm(join(this.modelsDir, model.name), { recursive: true, force: true });
    }
  }

  /** Where a version's files are: the original and its int8 candidate (which may not exist). */
  filesOf(name: string, version: string): { fp32: string; int8: string } {
    const row = this.requireRow(name, version);
    const fp32 = join(this.deps.dataDir, row.file_path);
    return { fp32, int8: join(dirname(fp32), INT8_FILE) };
  }

  private pathFor(row: ModelVersionRow, precision: Precision): string {
    const fp32 = join(this.deps.dataDir, row.file_path);
    return precision === 'int8' ? join(dirname(fp32), INT8_FILE) : fp32;
  }

  private runtimeSettings(name: string, version: string): ModelRuntimeSettings {
    return this.deps.runtimeSettings?.(name, version) ?? DEFAULT_RUNTIME_SETTINGS;
  }

  /**
   * Loads a precision's sessions where the model's placement says, as a served version. A stored
   * version keeps its recorded signature; a new upload takes the one the session reports.
   */
  private loadServed(name: string, version: string, precision: Precision, path: string, cost: SessionCost, row?: ModelVersionRow): Promise<ServedVersion> {
    const signatureOf = (loaded: LoadResult) =>
      row ? { inputs: row.inputs, outputs: row.outputs } : { inputs: signatureFromMetadata(loaded.inputs, 'input'), outputs: signatureFromMetadata(loaded.outputs, 'output') };
    const execution = executionLabel(this.runtimeSettings(name, version));
    const key = execution === undefined ? { model: name, version, precision } : { model: name, version, precision, execution };
    return ServedVersion.load(key, path, () => this.runtimeSettings(name, version), this.deps.serving, signatureOf, cost);
  }

  /**
   * What one session of a stored version costs: its measurement, made now (and kept) for a version
   * from before measurements. The original file is measured; its int8 candidate is the same graph
   * with smaller weights and is budgeted the same.
   */
  private async costOf(row: ModelVersionRow): Promise<SessionCost> {
    if (row.session_bytes !== null && row.session_load_ms !== null) return { sessionBytes: row.session_bytes, loadMs: row.session_load_ms };
    const measured = await this.deps.serving.pool.measure({ model: row.model_name, version: row.version, precision: 'fp32' }, this.pathFor(row, 'fp32'));
    const cost = { sessionBytes: measured.sessionBytes, loadMs: measured.loadMs };
    this.deps.models.setSessionCost(row.model_name, row.version, cost);
    return cost;
  }

  /**
   * After the model's execution settings changed (provider, intra-op threads, where `auto` placed a
   * version): each loaded version whose sessions run otherwise swaps to new ones (swapServed).
   */
  applyExecution(name: string): Promise<VersionView[]> {
    return this.serialize(name, async () => {
      for (const row of this.deps.models.listVersions(name)) {
        const old = this.status.get(keyOf(name, row.version))?.served;
        if (old && old.key.execution !== executionLabel(this.runtimeSettings(name, row.version))) await this.swapServed(row, old, old.precision);
      }
      return this.deps.models.listVersions(name).map((row) => this.viewOf(name, row.version));
    });
  }

  /**
   * Loads new sessions of a served version (another precision, or new execution settings) beside
   * the old ones, moves requests over in one step, and retires the old ones once their requests
   * finish: no request fails. If the new ones cannot load, the old ones keep serving and it throws.
   */
  private async swapServed(row: ModelVersionRow, old: ServedVersion, precision: Precision): Promise<void> {
    const served = await this.loadServed(row.model_name, row.version, precision, this.pathFor(row, precision), await this.costOf(row), row);
    served.lastUsedAt = old.lastUsedAt;
    this.status.set(keyOf(row.model_name, row.version), { state: 'ready', served, fallbackReason: served.loaded.fallbackReason });
    await old.retire();
  }

  private nowMs(): number {
    return this.now().getTime();
  }

  private async loadRow(row: ModelVersionRow): Promise<void> {
    const key = keyOf(row.model_name, row.version);
    const precision = row.served_precision;
    this.status.set(key, { state: 'loading' });
    try {
      let served: ServedVersion;
      let fallbackReason: string | undefined;
      const cost = await this.costOf(row);
      try {
        served = await this.loadServed(row.model_name, row.version, precision, this.pathFor(row, precision), cost, row);
        fallbackReason = served.loaded.fallbackReason;
      } catch (error) {
        if (precision !== 'int8') throw error;
        // The original is always there: a missing or broken int8 file must not take the version down.
        served = await this.loadServed(row.model_name, row.version, 'fp32', this.pathFor(row, 'fp32'), cost, row);
        this.deps.models.setPrecision(row.model_name, row.version, { served: 'fp32' });
        fallbackReason = `int8 file could not be loaded (${messageOf(error)}); serving fp32`;
      }
      served.lastUsedAt = this.nowMs();
      this.status.set(key, { state: 'ready', served, fallbackReason });
    } catch (error) {
      this.status.set(key, { state: 'failed', error: messageOf(error) });
      throw error;
    }
  }

  /**
   * Stores a new version from a stream of ONNX bytes. It is accepted only if it is ONNX whose
   * external data stays in its folder, onnxruntime loads it, and its measured sessions fit the
   * memory budget; otherwise nothing is left on disk, in the database or in the runtime. The first version
   * of a model becomes active; later ones only when `activate` is set.
   */
  addVersion(input: { name: string; source: Readable; maxBytes: number } & PlaceOptions): Promise<VersionView> {
    const name = assertModelName(input.name);
    return this.receiveUpload(input.source, input.maxBytes).then((upload) => this.placeUpload(name, upload, input));
  }

  /**
   * The first half of `addVersion`: the bytes to a temporary file. It runs outside the per-model
   * lock: a slow or stalled upload must not hold up activate, unload or delete on the same model.
   * A caller that then decides against placing it calls `discardUpload`.
   */
  async receiveUpload(source: Readable, maxBytes: number): Promise<ReceivedUpload> {
    const tempDir = join(this.modelsDir, INCOMING);
    await mkdir(tempDir, { recursive: true });
    const tempFile = join(tempDir, `${randomBytes(8).toString('hex')}.onnx`);
    return { tempFile, ...(await writeUploadToFile(source, tempFile, maxBytes)) };
  }

  /**
   * The second half: numbers, places and loads a received upload under the model's lock. The file
   * is checked and measured in its folder (external data resolves there) by a child process, so
   * neither decoding a large graph nor a model over the budget touches this process.
   */
  placeUpload(name: string, upload: ReceivedUpload, options: PlaceOptions): Promise<VersionView> {
    return this.serialize(assertModelName(name), () => this.placeVersion(name, upload, options)).finally(() => this.discardUpload(upload));
  }

  discardUpload(upload: ReceivedUpload): Promise<void> {
    return rm(upload.tempFile, { force: true });
  }

  private async placeVersion(name: string, upload: ReceivedUpload, input: PlaceOptions): Promise<VersionView> {
    const version = this.deps.models.nextVersion(name);
    const versionDir = join(this.modelsDir, name, version);
    const key = keyOf(name, version);
    let placed: ServedVersion | undefined;
    try {
      await mkdir(versionDir, { recursive: true });
      const filePath = join(versionDir, MODEL_FILE);
      await rename(upload.tempFile, filePath);
      this.status.set(key, { state: 'loading' });
      const { info, ...cost } = await this.deps.serving.pool.measure({ model: name, version, precision: 'fp32' }, filePath);
      placed = await this.loadServed(name, version, 'fp32', filePath, cost);
      const row: ModelVersionRow = {
        model_name: name,
        version,
        desired_state: 'loaded',
        file_path: join('models', name, version, MODEL_FILE),
        sha256: upload.sha256,
        size_bytes: upload.sizeBytes,
        opset: info.opset,
        ir_version: info.irVersion,
        producer: info.producer,
        inputs: placed.inputs,
        outputs: placed.outputs,
        created_at: this.now().toISOString(),
        created_by: input.createdBy ?? null,
        served_precision: 'fp32',
        precision_override: null,
        labels: input.metadata?.labels ?? {},
        metrics: input.metadata?.metrics ?? {},
        session_bytes: cost.sessionBytes,
        session_load_ms: cost.loadMs,
      };
      const first = this.deps.models.getModel(name) === undefined;
      this.deps.models.insertVersion(row, first || input.activate === true);
      placed.lastUsedAt = this.nowMs();
      this.status.set(key, { state: 'ready', served: placed, fallbackReason: placed.loaded.fallbackReason });
      return this.viewOf(name, version);
    } catch (error) {
      this.status.delete(key);
      await placed?.retire();
      await rm(versionDir, { recursive: true, force: true });
      if (!this.deps.models.getModel(name)) await rm(join(this.modelsDir, name), { recursive: true, force: true });
      throw error;
    }
  }

  listModels(): ModelView[] {
    return this.deps.models.listModels().map((m) => this.modelView(m.name)!);
  }

  getModel(name: string): ModelView {
    const view = this.modelView(name);
    if (!view) throw inferboxError('IBX_ERR_MODEL_NOT_FOUND', name);
    return view;
  }

  getVersion(name: string, version: string): VersionView {
    this.getModel(name);
    if (!this.deps.models.getVersion(name, version)) throw inferboxError('IBX_ERR_VERSION_NOT_FOUND', name, version);
    return this.viewOf(name, version);
  }

  private modelView(name: string): ModelView | undefined {
    const model = this.deps.models.getModel(name);
    if (!model) return undefined;
    const versions = this.deps.models.listVersions(name).map((row) => this.toView(row, model.active_version));
    return { name, active_version: model.active_version, created_at: model.created_at, cache_enabled: model.cache_enabled === 1, versions };
  }

  private viewOf(name: string, version: string): VersionView {
    const model = this.deps.models.getModel(name);
    const row = this.deps.models.getVersion(name, version);
    if (!model || !row) throw inferboxError('IBX_ERR_VERSION_NOT_FOUND', name, version);
    return this.toView(row, model.active_version);
  }

  private toView(row: ModelVersionRow, activeVersion: string | null): VersionView {
    const { model_name, file_path: _path, ...rest } = row;
    const status = this.status.get(keyOf(model_name, row.version)) ?? { state: 'unloaded' as const };
    const placement = status.served ? (this.deps.serving.pool.placementStatus(status.served.key) ?? null) : null;
    return {
      name: model_name,
      ...rest,
      state: status.state,
      active: activeVersion === row.version,
      platform: 'onnxruntime_onnx',
      // The pool's view is live: a GPU run that failed moves a served version to the CPU (runOnGpu).
      execution_provider: placement?.provider ?? status.served?.loaded.provider ?? null,
      fallback_reason: placement?.runFallbackReason ?? status.fallbackReason ?? null,
      error: status.error ?? null,
      placement,
    };
  }

  private requireRow(name: string, version: string): ModelVersionRow {
    assertModelName(name);
    assertVersion(version);
    if (!this.deps.models.getModel(name)) throw inferboxError('IBX_ERR_MODEL_NOT_FOUND', name);
    const row = this.deps.models.getVersion(name, version);
    if (!row) throw inferboxError('IBX_ERR_VERSION_NOT_FOUND', name, version);
    return row;
  }

  setCacheEnabled(name: string, enabled: boolean): ModelView {
    this.getModel(name);
    this.deps.models.setCacheEnabled(name, enabled);
    return this.getModel(name);
  }

  /** Makes a version the default for unversioned requests, loading it first if needed. */
  private assertNotInUse(name: string, version: string | null | undefined, action: string): void {
    const reason = version ? this.deps.versionInUse?.(name, version) : null;
    if (reason) throw inferboxError('IBX_ERR_CONFLICT', `cannot ${action}: ${reason}`);
  }

  activate(name: string, version: string): Promise<VersionView> {
    return this.serialize(name, async () => {
      const row = this.requireRow(name, version);
      const current = this.deps.models.getModel(name)?.active_version;
      if (current !== version) this.assertNotInUse(name, current, `make version ${version} active instead of ${current}`);
      if (this.status.get(keyOf(name, version))?.state !== 'ready') {
        await this.loadRow(row);
        this.deps.models.setDesiredState(name, version, 'loaded');
      }
      this.deps.models.setActiveVersion(name, version);
      return this.viewOf(name, version);
    });
  }

  load(name: string, version: string): Promise<VersionView> {
    return this.serialize(name, async () => {
      const row = this.requireRow(name, version);
      if (this.status.get(keyOf(name, version))?.state !== 'ready') await this.loadRow(row);
      this.deps.models.setDesiredState(name, version, 'loaded');
      return this.viewOf(name, version);
    });
  }

  unload(name: string, version: string): Promise<VersionView> {
    return this.serialize(name, async () => {
      this.requireRow(name, version);
      this.assertNotInUse(name, version, `unload version ${version}`);
      await this.unloadVersion(name, version);
      this.deps.models.setDesiredState(name, version, 'unloaded');
      return this.viewOf(name, version);
    });
  }

  private async unloadVersion(name: string, version: string, final: 'unloaded' | 'idle' = 'unloaded'): Promise<void> {
    const key = keyOf(name, version);
    const served = this.status.get(key)?.served;
    // New requests see 'unloading' (503) at once; the requests that hold the version finish first.
    this.status.set(key, { state: 'unloading' });
    await served?.retire();
    this.status.set(key, { state: final });
  }

  /**
   * Unloads the versions that went unused for their model's idle time. They stay wanted
   * (`desired_state` loaded, ready for /v2/health/ready) and load again on their next request.
   */
  unloadIdle(): void {
    const now = this.nowMs();
    for (const [key, status] of this.status) {
      const served = status.served;
      if (status.state !== 'ready' || !served || this.idleUnloads.has(key)) continue;
      const idleSeconds = this.runtimeSettings(served.name, served.version).idleUnloadSeconds;
      const lastUsedAt = served.lastUsedAt;
      if (idleSeconds <= 0 || now - lastUsedAt < idleSeconds * 1000) continue;
      this.idleUnloads.add(key); // not picked twice while the unload waits its turn
      void this.serialize(served.name, async () => {
        // A request since it was picked keeps it loaded.
        if (this.status.get(key)?.served === served && served.lastUsedAt === lastUsedAt) await this.unloadVersion(served.name, served.version, 'idle');
      })
        .catch(() => undefined)
        .finally(() => this.idleUnloads.delete(key));
    }
  }

  /**
   * Switches the precision a version serves. When it is loaded, the new sessions load first, then
   * requests move over in one step, then the old sessions go once their runs finish: no request
   * fails for the swap. `override` records (or with null clears) the admin's choice.
   */
  setServedPrecision(name: string, version: string, precision: Precision, override?: Precision | null): Promise<VersionView> {
    return this.serialize(name, async () => {
      const row = this.requireRow(name, version);
      const old = this.status.get(keyOf(name, version))?.served;
      if (old && old.precision !== precision) await this.swapServed(row, old, precision);
      this.deps.models.setPrecision(name, version, { served: precision, ...(override !== undefined ? { override } : {}) });
      return this.viewOf(name, version);
    });
  }

  /**
   * Deletes a version's sessions, row and files. The active version of a model that has other
   * versions cannot be deleted (activate another first); the last version takes the model with it.
   */
  deleteVersion(name: string, version: string): Promise<{ modelDeleted: boolean }> {
    return this.serialize(name, async () => {
      const row = this.requireRow(name, version);
      this.assertNotInUse(name, version, `delete version ${version}`);
      const model = this.deps.models.getModel(name)!;
      const others = this.deps.models.listVersions(name).length - 1;
      if (model.active_version === version && others > 0) {
        throw inferboxError('IBX_ERR_CONFLICT', `version ${version} is the active version of '${name}'; activate another version before deleting it`);
      }
      const key = keyOf(name, version);
      await this.unloadVersion(name, version);
      const result = this.deps.models.deleteVersion(name, version);
      this.status.delete(key);
      await rm(join(this.deps.dataDir, row.file_path, '..'), { recursive: true, force: true });
      if (result.modelDeleted) await rm(join(this.modelsDir, name), { recursive: true, force: true });
      return result;
    });
  }

  /**
   * The version that answers a request, loading it first if it was unloaded for idleness (the
   * request waits for the load instead of failing).
   */
  async resolveServing(name: string, version?: string): Promise<ServedVersion> {
    const chosen = version ?? this.deps.models.getModel(name)?.active_version;
    const key = chosen ? keyOf(name, chosen) : undefined;
    if (key && this.status.get(key)?.state === 'idle') {
      await this.serialize(name, async () => {
        const row = this.deps.models.getVersion(name, chosen!);
        if (row && this.status.get(key)?.state === 'idle') await this.loadRow(row);
      });
    }
    return this.resolve(name, version);
  }

  /**
   * The version that answers a request now: the named one, or the model's active version. The
   * caller acquires it before use (`ServedVersion.acquire`): it may be retiring already.
   */
  resolve(name: string, version?: string): ServedVersion {
    const model = this.deps.models.getModel(name);
    if (!model) throw inferboxError('IBX_ERR_MODEL_NOT_FOUND', name);
    const chosen = version ?? model.active_version;
    if (chosen === null) throw inferboxError('IBX_ERR_NO_ACTIVE_VERSION', name);
    const status = this.status.get(keyOf(name, chosen));
    if (status?.state === 'ready' && status.served) {
      status.served.lastUsedAt = this.nowMs();
      return status.served;
    }
    if (!this.deps.models.getVersion(name, chosen)) throw inferboxError('IBX_ERR_VERSION_NOT_FOUND', name, chosen);
    throw inferboxError('IBX_ERR_MODEL_NOT_READY', name, chosen, status?.state ?? 'unloaded');
  }

  /** The versions serving now (for queue depths); a precision swap's retiring sessions are not among them. */
  servedVersions(): ServedVersion[] {
    const served: ServedVersion[] = [];
    for (const status of this.status.values()) if (status.state === 'ready' && status.served) served.push(status.served);
    return served;
  }

  /** The signature of the model's active version (the newest when none is active), for checking samples. */
  resolveSignature(name: string): { name: string; inputs: TensorSpec[]; outputs: TensorSpec[] } {
    const model = this.getModel(name);
    const version = model.active_version ?? model.versions.at(-1)!.version;
    const row = this.requireRow(name, version);
    return { name, inputs: row.inputs, outputs: row.outputs };
  }

  /**
   * Server readiness (`/v2/health/ready`, gRPC ServerReady): every version that requests reach
   * without naming one — each model's active version and each running experiment's variants — and
   * every version the admin wants loaded is ready, or idle (it loads on its next request). An
   * admin unload of an active version makes the server unready: its model's unversioned requests
   * fail until it is loaded again or another version is activated.
   */
  isReady(): boolean {
    const serving = (model: string, version: string) => {
      const state = this.status.get(keyOf(model, version))?.state;
      return state === 'ready' || state === 'idle';
    };
    return (
      this.deps.models.listAllVersions().every((row) => row.desired_state !== 'loaded' || serving(row.model_name, row.version)) &&
      this.deps.models.listModels().every((model) => model.active_version === null || serving(model.name, model.active_version)) &&
      (this.deps.routedVersions?.() ?? []).every(({ model, version }) => serving(model, version))
    );
  }
}
