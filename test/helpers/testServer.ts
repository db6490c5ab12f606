import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startServer, type RunningServer, type StartOptions } from '../../server/startServer.js';

export interface TestServer {
  running: RunningServer;
  baseUrl: string;
  dataDir: string;
  adminKey: string;
  /** fetch against the server with an optional bearer key; JSON bodies are encoded for you. */
  request(method: string, path: string, options?: { key?: string | null; json?: unknown; body?: RequestInit['body']; headers?: Record<string, string> }): Promise<Response>;
  /** Stops the server; the data dir stays until `cleanup` (restart tests reuse it). */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function makeDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'inferbox-test-'));
}

/** A real server on 127.0.0.1 with an ephemeral port, a temp data dir, real SQLite and real ORT (no WebGPU probe unless `webgpuProbe` is given). */
export async function startTestServer(options: Partial<StartOptions> = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await makeDataDir());
  const running = await startServer({
    dataDir,
    overrides: { host: '127.0.0.1', port: 0, ...options.overrides },
    logger: options.logger ?? pino({ level: 'silent' }),
    ...(options.execution ? { execution: options.execution } : { execution: { instances: 2, intraOpThreads: 1 } }),
    ...(options.network ? { network: options.network } : {}),
    ...(options.grpcRetryMs ? { grpcRetryMs: options.grpcRetryMs } : {}),
    ...(options.capacityAdvisor ? { capacityAdvisor: options.capacityAdvisor } : {}),
    ...(options.remediation ? { remediation: options.remediation } : {}),
    // No WebGPU probe unless a test asks (an onnxruntime child per server would load every test run's cores).
    webgpuProbe: options.webgpuProbe ?? false,
  });
  const adminKey = (await readFile(running.adminKeyPath, 'utf8')).trim();
  const baseUrl = running.urls[0]!;
  return {
    running,
    baseUrl,
    dataDir,
    adminKey,
    request: (method, path, { key = adminKey, json, body, headers = {} } = {}) =>
      fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: json !== undefined ? JSON.stringify(json) : body ?? null,
      }),
    stop: () => running.close(),
    cleanup: async () => {
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A penguin near the Gentoo centre: beak 47.5 mm, depth 15 mm, flipper 217 mm, 5076 g. */
export const GENTOO_FEATURES = [47.5, 15.0, 217, 5076];
