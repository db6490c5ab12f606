import type { SettingsRepository } from '../store/SettingsRepository.js';
import { RESTART_SETTINGS, resolveSettings, serverSettingsSchema, settingsUpdateSchema, type ServerSettings, type SettingName } from './serverSettings.js';
import { parseRequest } from '../common/parseRequest.js';

export interface SettingsView {
  /** What this process runs with (flags and environment included). */
  effective: ServerSettings;
  /** What the admin saved (applies on the next start where a flag or variable does not override it). */
  saved: Partial<ServerSettings>;
  defaults: ServerSettings;
  /** Settings a command-line flag or environment variable sets for this run: saving them changes nothing until that is removed. */
  overridden: SettingName[];
}

/** Saved settings: read at start, changed through the admin API (validated, then stored). */
export class SettingsService {
  constructor(
    private readonly repository: SettingsRepository,
    private readonly effective: ServerSettings,
    private readonly overridden: readonly SettingName[] = [],
    private readonly now: () => Date = () => new Date(),
  ) {}

  saved(): Partial<ServerSettings> {
    const all = this.repository.getAll();
    const known = Object.keys(serverSettingsSchema.shape);
    return Object.fromEntries(Object.entries(all).filter(([k]) => known.includes(k))) as Partial<ServerSettings>;
  }

  view(): SettingsView {
    return { effective: this.effective, saved: this.saved(), defaults: resolveSettings(), overridden: [...this.overridden] };
  }

  /**
   * Validates and saves a partial update; returns which changed settings need a restart.
   * Settings read while running (log retention, body limits) take effect at once.
   */
  update(body: unknown): { changed: SettingName[]; restart_required: SettingName[] } {
    const update = parseRequest(settingsUpdateSchema, body);
    const values = Object.fromEntries(Object.entries(update).map(([k, v]) => [k, v ?? undefined]));
    this.repository.setMany(values, this.now().toISOString());
    const changed = Object.keys(values) as SettingName[];
    for (const name of changed) {
      if (!RESTART_SETTINGS.includes(name)) (this.effective as Record<string, unknown>)[name] = resolveSettings(this.saved())[name];
    }
    return { changed, restart_required: changed.filter((k) => RESTART_SETTINGS.includes(k)) };
  }

  get current(): Readonly<ServerSettings> {
    return this.effective;
  }
}
