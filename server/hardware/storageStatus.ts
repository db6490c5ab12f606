import { statfsSync } from 'node:fs';

/** The data directory's disk as `/api/system` and the console show it. */
export interface StorageStatus {
  /** Bytes an unprivileged writer can still use (`bavail`: root's reserved blocks do not count). */
  free_bytes: number;
  total_bytes: number;
  low_space_threshold_bytes: number;
  low_space: boolean;
  /** What the admin must see: low space, and request-log rows being lost. */
  warnings: string[];
}

const GB = 1024 ** 3;
const size = (bytes: number) => (bytes >= GB ? `${(bytes / GB).toFixed(1)} GB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`);

/**
 * Reads the free space of the file system holding `dataDir` (one statfs call: cheap enough per
 * request to an admin route, and never stale). `logFailure` is the request log's write failure
 * since its last successful write, if any.
 */
export function storageStatus(dataDir: string, lowSpaceThresholdBytes: number, logFailure: { dropped: number; message: string; at: string } | null): StorageStatus {
  const stats = statfsSync(dataDir);
  const free = stats.bavail * stats.bsize;
  const lowSpace = free < lowSpaceThresholdBytes;
  const warnings: string[] = [];
  if (lowSpace) warnings.push(`Low disk space: ${size(free)} free in the data directory ${dataDir} (warning below ${size(lowSpaceThresholdBytes)}). Uploads, int8 candidates and logs fail when it is full; inference goes on.`);
  if (logFailure) warnings.push(`The request log cannot be written (${logFailure.message}): ${logFailure.dropped} rows lost since ${logFailure.at}. Inference goes on.`);
  return { free_bytes: free, total_bytes: stats.blocks * stats.bsize, low_space_threshold_bytes: lowSpaceThresholdBytes, low_space: lowSpace, warnings };
}
