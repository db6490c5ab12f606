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
  /** Keep /dev visible (CUDA needs /dev/nvidia*); otherwise the unit hides devices. */
  gpu: boolean;
}

export const SERVICE_NAME = 'inferbox';
