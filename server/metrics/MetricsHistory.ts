/** One sample of the cumulative summary, as `GET /api/metrics/summary` answers it. */
export interface SummarySnapshot<Row> {
  at: string;
  models: Row[];
}

/**
 * The last few minutes of summary samples, kept in memory so the console's live charts start
 * full when the dashboard opens (and after a reload) instead of from its next polls. Samples are
 * the registry's own cumulative numbers (one source of truth); the console charts differences
 * between neighbours exactly as it does between its own polls. Lost on restart, by design.
 */
export class MetricsHistory<Row> {
  private readonly samples: SummarySnapshot<Row>[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sample: () => Promise<Row[]>,
    readonly options: { capacity: number; intervalMs: number },
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Samples every `intervalMs` until `close`. */
  start(): void {
    this.timer ??= setInterval(() => void this.record(), this.options.intervalMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample; beyond the capacity the oldest is dropped. */
  async record(): Promise<void> {
    const models = await this.sample();
    this.samples.push({ at: this.now().toISOString(), models });
    if (this.samples.length > this.options.capacity) this.samples.splice(0, this.samples.length - this.options.capacity);
  }

  /** Oldest first. */
  snapshots(): SummarySnapshot<Row>[] {
    return [...this.samples];
  }
}
