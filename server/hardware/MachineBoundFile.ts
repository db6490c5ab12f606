import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineKey } from './machineKey.js';

/**
 * One probe's answer kept as JSON in the data dir, valid only on the machine that wrote it
 * (machineKey: another machine, a resized VM or a moved data dir reads nothing), replaced
 * atomically and readable by the service's user alone.
 */
export class MachineBoundFile<T> {
  private readonly path: string;

  /** `field`: the answer's key in the file; `valid`: whether what was read has the answer's shape. */
  constructor(dataDir: string, file: string, private readonly field: string, private readonly valid: (value: unknown) => value is T) {
    this.path = join(dataDir, file);
  }

  /** The kept answer, or null when there is none, it is unreadable, or it was written on another machine. */
  read(): T | null {
    try {
      const saved = JSON.parse(readFileSync(this.path, 'utf8')) as Record<string, unknown>;
      const value = saved[this.field];
      return saved.machine === machineKey() && this.valid(value) ? value : null;
    } catch {
      return null;
    }
  }

  write(value: T): void {
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ machine: machineKey(), [this.field]: value })}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}
