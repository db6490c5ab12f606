import { ApiKeyRepository } from './ApiKeyRepository.js';
import { AuditRepository } from './AuditRepository.js';
import { ExperimentRepository } from './ExperimentRepository.js';
import { JobRepository } from './JobRepository.js';
import { ModelCardRepository } from './ModelCardRepository.js';
import { ModelRepository } from './ModelRepository.js';
import { PayloadRepository } from './PayloadRepository.js';
import { PlacementRepository } from './PlacementRepository.js';
import { TuningRepository } from './TuningRepository.js';
import { truncateWal } from './truncateWal.js';
import { openDatabase, type SqliteDatabase } from './openDatabase.js';
import { QuantizationRepository } from './QuantizationRepository.js';
import { RequestLogRepository } from './RequestLogRepository.js';
import { RequestLogThread, type LogBatchResult } from './RequestLogThread.js';
import { SettingsRepository } from './SettingsRepository.js';
import { WebhookRepository } from './WebhookRepository.js';

/** The appliance's SQLite database and its repositories; the only owner of better-sqlite3. */
export class Store {
  readonly models: ModelRepository;
  readonly keys: ApiKeyRepository;
  readonly requestLog: RequestLogRepository;
  readonly audit: AuditRepository;
  readonly settings: SettingsRepository;
  readonly quantization: QuantizationRepository;
  readonly experiments: ExperimentRepository;
  readonly jobs: JobRepository;
  readonly payloads: PayloadRepository;
  readonly cards: ModelCardRepository;
  readonly webhooks: WebhookRepository;
  readonly placements: PlacementRepository;
  readonly tuning: TuningRepository;

  private constructor(private readonly db: SqliteDatabase, private readonly path: string) {
    this.models = new ModelRepository(db);
    this.keys = new ApiKeyRepository(db);
    this.requestLog = new RequestLogRepository(db);
    this.audit = new AuditRepository(db);
    this.settings = new SettingsRepository(db);
    this.quantization = new QuantizationRepository(db);
    this.experiments = new ExperimentRepository(db);
    this.jobs = new JobRepository(db);
    this.payloads = new PayloadRepository(db);
    this.cards = new ModelCardRepository(db);
    this.webhooks = new WebhookRepository(db);
    this.placements = new PlacementRepository(db);
    this.tuning = new TuningRepository(db);
  }

  static open(path: string): Store {
    return new Store(openDatabase(path), path);
  }

  /** A writer thread with its own connection for request-log and payload rows (see RequestLogThread). */
  openRequestLogThread(onResult: (result: LogBatchResult) => void, onExit: (code: number) => void): RequestLogThread {
    return new RequestLogThread(this.path, onResult, onExit);
  }

  /** See truncateWal.ts: erased rows must not survive in the -wal file. */
  truncateWal(): boolean {
    return truncateWal(this.db);
  }

  /**
   * A consistent copy of the live database in `destination` through SQLite's online backup API:
   * requests keep being served meanwhile (better-sqlite3 copies pages in steps between other work,
   * and writes on this connection during the copy are carried into it). Returns its schema version.
   */
  async backupTo(destination: string): Promise<number> {
    await this.db.backup(destination);
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  close(): void {
    this.db.close();
  }
}
