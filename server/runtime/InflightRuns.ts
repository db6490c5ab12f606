/** Counts runs in flight per id and lets callers wait until an id (or every id) has none. */
export class InflightRuns {
  private readonly counts = new Map<string, number>();
  private readonly waiters = new Map<string, (() => void)[]>();

  begin(id: string): void {
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }

  end(id: string): void {
    const count = (this.counts.get(id) ?? 1) - 1;
    if (count > 0) {
      this.counts.set(id, count);
      return;
    }
    this.counts.delete(id);
    for (const resolve of this.waiters.get(id) ?? []) resolve();
    this.waiters.delete(id);
  }

  has(id: string): boolean {
    return this.counts.has(id);
  }

  idle(id: string): Promise<void> {
    if (!this.counts.has(id)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]));
  }

  async allIdle(): Promise<void> {
    await Promise.all([...this.counts.keys()].map((id) => this.idle(id)));
  }
}
