import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HardwareProfile } from './HardwareProfile.js';
import { machineKey } from './machineKey.js';

const FILE = 'hardware.json';

/**
 * The last hardware probe, kept in the data dir (`hardware.json`) so that a restart plans its
 * workers at once instead of waiting for the probe: the probe starts five short-lived node
 * processes (see isolatedSystemInformation), ~0.3-1 s on two busy cores, and nothing it finds
 * changes between two starts of the same machine. The probe still runs on every start, after the
 * server is ready; its answer replaces this file, shows on /api/system, and plans the next start.
 */
export class HardwareProfileCache {
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, FILE);
  }

  /** The cached profile, or null when there is none, it is unreadable, or it was probed on another machine. */
  read(): HardwareProfile | null {
    try {
      const saved = JSON.parse(readFileSync(this.path, 'utf8')) as { machine?: unknown; profile?: HardwareProfile };
      return saved.machine === machineKey() && saved.profile?.cpu && saved.profile.memory && Array.isArray(saved.profile.gpus) ? saved.profile : null;
    } catch {
      return null;
    }
  }

  /** Keeps a probe's answer; one that fell back to node:os entirely (every call failed) never replaces a better one. */
  write(profile: HardwareProfile): void {
    if (profile.probe.status === 'fallback' && this.read() !== null) return;
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ machine: machineKey(), profile })}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}
