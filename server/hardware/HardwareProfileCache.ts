import type { HardwareProfile } from './HardwareProfile.js';
import { MachineBoundFile } from './MachineBoundFile.js';

const FILE = 'hardware.json';

const isProfile = (value: unknown): value is HardwareProfile => {
  const profile = value as Partial<HardwareProfile> | undefined;
  return Boolean(profile?.cpu && profile.memory && Array.isArray(profile.gpus));
};

/**
 * The last hardware probe, kept in the data dir (`hardware.json`) so that a restart plans its
 * workers at once instead of waiting for the probe: the probe starts five short-lived node
 * processes (see isolatedSystemInformation), ~0.3-1 s on two busy cores, and nothing it finds
 * changes between two starts of the same machine. The probe still runs on every start, after the
 * server is ready; its answer replaces this file, shows on /api/system, and plans the next start.
 */
export class HardwareProfileCache {
  private readonly file: MachineBoundFile<HardwareProfile>;

  constructor(dataDir: string) {
    this.file = new MachineBoundFile(dataDir, FILE, 'profile', isProfile);
  }

  /** The cached profile, or null when there is none, it is unreadable, or it was probed on another machine. */
  read(): HardwareProfile | null {
    return this.file.read();
  }

  /** Keeps a probe's answer; one that fell back to node:os entirely (every call failed) never replaces a better one. */
  write(profile: HardwareProfile): void {
    if (profile.probe.status === 'fallback' && this.read() !== null) return;
    this.file.write(profile);
  }
}
