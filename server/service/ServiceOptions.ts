import type { GpuDeviceAccess } from './gpuDeviceAccess.js';

/** What every service definition needs: how to start the headless CLI, as whom, on which data dir and port. */
export interface ServiceOptions {
  /** Absolute path of the node binary that runs the server (the one running the installer). */
  nodePath: string;
  /** Absolute path of the built CLI (dist/server/main.js). */
  mainPath: string;
  dataDir: string;
  /** The account the server runs as: a dedicated system user on Linux. */
  user: string;
  port: number;
  /** The GPU device nodes (and groups) the Linux unit lets through its private /dev; found at install time. */
  gpu: GpuDeviceAccess;
}

export const SERVICE_NAME = 'inferbox';
