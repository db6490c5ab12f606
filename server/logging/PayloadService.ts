import { setImmediate as nextTurn } from 'node:timers/promises';
import type { PayloadRepository, PayloadSummaryRow } from '../store/PayloadRepository.js';
import type { PayloadFilter } from '../store/payloadWhere.js';
import type { QuantizationRepository } from '../store/QuantizationRepository.js';

/** Rows read per export page: a download holds one page in memory and never holds the database across awaits. */
const EXPORT_PAGE = 200;
/**
 * Rows deleted per step, with a turn of the event loop between steps: secure_delete zeroes every
 * freed page, which measured 6–15× slower than a plain delete for 8 KB payloads (4,500 rows:
 * 143–242 ms against 15–24 ms, bench/secureDelete.ts), so one large purge in a single statement
 * would stall the HTTP thread.
 */
const DELETE_STEP = 100;
const DAY_MS = 24 * 3_600_000;

/** What an erasure or a purge removed. */
export interface ErasedPayloads {
  payloads: number;
  /** Live quantization samples (request inputs recorded for the int8 gate). */
  live_samples: number;
  /** Whether the write-ahead log, which can hold older copies of the erased rows, was emptied. */
  wal_truncated: boolean;
}

export interface PayloadServiceDeps {
  payloads: PayloadRepository;
  samples: QuantizationRepository;
  /** The model's payload retention (its own setting, else the server-wide default). */
  retentionDays: (model: string) => number;
  truncateWal: () => boolean;
  /** Live samples were deleted: the recorder must count them again. */
  onLiveSamplesErased: () => void;
  now?: () => Date;
}

/**
 * The stored inference payloads of models that log them, and the live samples, which are payloads
 * too: retention per model, listing, JSON-lines export and erasure (right to erasure). Deleted rows
 * are zeroed in the file (secure_delete) and the write-ahead log is truncated after each deletion,
 * so erased data does not linger in free pages or older page copies.
 */
export class PayloadService {
  private readonly now: () => Date;

  constructor(private readonly deps: PayloadServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Deletes every payload and live sample older than its model's retention window. */
  async purgeExpired(): Promise<ErasedPayloads> {
    const models = new Set([...this.deps.payloads.models(), ...this.deps.samples.liveSampleModels()]);
    const erased = { payloads: 0, samples: 0 };
    for (const model of models) {
      const until = new Date(this.now().getTime() - this.deps.retentionDays(model) * DAY_MS).toISOString();
      const one = await this.deleteInSteps({ model, until });
      erased.payloads += one.payloads;
      erased.samples += one.samples;
    }
    return this.finish(erased.payloads, erased.samples);
  }

  list(filter: PayloadFilter, limit: number, offset: number): { rows: PayloadSummaryRow[]; total: number } {
    return this.deps.payloads.list(filter, limit, offset);
  }

  /**
   * One JSON object per payload, oldest first: `{"id", "ts", "request_id", "model", "version",
   * "key_id", "request", "response"}` (request and response as they were logged: JSON text, cut at
   * 64 KiB). The count is fixed when the export starts: rows logged meanwhile are not in it.
   */
  export(filter: PayloadFilter): { count: number; lines: AsyncGenerator<string> } {
    const { count, lastId } = this.deps.payloads.snapshot(filter);
    const { payloads } = this.deps;
    async function* lines(): AsyncGenerator<string> {
      let after = 0;
      for (;;) {
        const rows = payloads.page(filter, after, lastId, EXPORT_PAGE);
        for (const { payload_json, ...row } of rows) yield `${JSON.stringify({ ...row, ...(JSON.parse(payload_json) as object) })}\n`;
        if (rows.length < EXPORT_PAGE) return;
        after = rows.at(-1)!.id;
        await nextTurn();
      }
    }
    return { count, lines: lines() };
  }

  /** Deletes the payloads and live samples the filter names. */
  async erase(filter: PayloadFilter): Promise<ErasedPayloads> {
    const erased = await this.deleteInSteps(filter);
    return this.finish(erased.payloads, erased.samples);
  }

  private async deleteInSteps(filter: PayloadFilter): Promise<{ payloads: number; samples: number }> {
    const erased = { payloads: 0, samples: 0 };
    for (let step = DELETE_STEP; step === DELETE_STEP; await nextTurn()) {
      step = this.deps.payloads.delete(filter, DELETE_STEP);
      erased.payloads += step;
    }
    for (let step = DELETE_STEP; step === DELETE_STEP; await nextTurn()) {
      step = this.deps.samples.deleteLiveSamples(filter, DELETE_STEP);
      erased.samples += step;
    }
    return erased;
  }

  private finish(payloads: number, samples: number): ErasedPayloads {
    if (samples > 0) this.deps.onLiveSamplesErased();
    // Nothing deleted, nothing to scrub from the log.
    const walTruncated = payloads + samples > 0 ? this.deps.truncateWal() : true;
    return { payloads, live_samples: samples, wal_truncated: walTruncated };
  }
}
