import { join } from 'node:path';
import { ServerStateFile } from '../server/config/ServerStateFile.js';
import { applianceRequest } from './applianceRequest.js';
import { pickLocalUrl, type ServerInfo } from './ServerSupervisor.js';

/**
 * A server already serving this data dir (the system service, or a headless `inferbox serve`): its
 * `server.json` names a live process, and its loopback URL answers /v2/health/ready (pinned to the
 * certificate fingerprint it recorded). The desktop app attaches to it instead of starting a second
 * server on the same database. A stale file (crash, reused pid) or a server not answering is none.
 */
export async function findRunningServer(dataDir: string, timeoutMs = 2000): Promise<ServerInfo | null> {
  const state = new ServerStateFile(dataDir).readLive();
  if (!state) return null;
  const localUrl = pickLocalUrl(state.urls);
  if (!localUrl) return null;
  try {
    const response = await applianceRequest(`${localUrl}/v2/health/ready`, { fingerprint256: state.tls_fingerprint, timeoutMs });
    if (response.status !== 200) return null;
  } catch {
    return null;
  }
  return { pid: state.pid, urls: state.urls, localUrl, tlsFingerprint: state.tls_fingerprint, adminKeyPath: join(dataDir, 'admin.key'), attached: true };
}
