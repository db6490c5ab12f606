import type { SettingsRepository } from '../store/SettingsRepository.js';

/**
 * Whether the admin has been through (or skipped) the console's first-run wizard. Kept in the
 * settings table under a key outside the settings schema (SettingsService ignores it), so it
 * travels with the database: a data dir moved to a new machine does not ask again.
 */
export const FIRST_RUN_KEY = 'first_run_completed_at';

export class FirstRunState {
  constructor(private readonly repository: SettingsRepository, private readonly now: () => Date = () => new Date()) {}

  completedAt(): string | null {
    const value = this.repository.getAll()[FIRST_RUN_KEY];
    return typeof value === 'string' ? value : null;
  }

  /** Marks the wizard done; the first completion's time is kept (finishing twice changes nothing). */
  complete(): { completed_at: string; already: boolean } {
    const existing = this.completedAt();
    if (existing) return { completed_at: existing, already: true };
    const at = this.now().toISOString();
    this.repository.setMany({ [FIRST_RUN_KEY]: at }, at);
    return { completed_at: at, already: false };
  }
}
