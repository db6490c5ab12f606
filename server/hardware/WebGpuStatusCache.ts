import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineKey } from './machineKey.js';
import type { WebGpuStatus } from './WebGpuStatus.js';

const FILE = 'webgpu.json';

/**
 * The last WebGPU probe, kept in the data dir (`webgpu.json`) so that /api/system and the console
 * say what this machine's WebGPU was from the first request of a restart, marked with when it was
 * checked, instead of "not checked yet". Unlike the CPU, WebGPU can change without the machine
 * changing (a driver installed or upgraded), so the probe runs again on every start, in the
 * background (0.6-1 s here), and its answer replaces this file.
 */
export class WebGpuStatusCache {
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, FILE);
  }

  /** The cached status, or null when there is none, it is unreadable, or it was probed on another machine. */
  read(): WebGpuStatus | null {
    try {
      const saved = JSON.parse(readFileSync(this.path, 'utf8')) as { machine?: unknown; status?: WebGpuStatus };
      return saved.machine === machineKey() && typeof saved.status?.available === 'boolean' && typeof saved.status.checkedAt === 'string' ? saved.status : null;
    } catch {
      return null;
    }
  }

  write(status: WebGpuStatus): void {
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ machine: machineKey(), status })}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}
