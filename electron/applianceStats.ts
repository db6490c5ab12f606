import { applianceRequest } from './applianceRequest.js';
import { totalRequests } from './trayModel.js';

export interface ApplianceStats {
  modelCount: number;
  /** Cumulative requests since the server started (all models, successes and failures). */
  totalRequests: number;
  at: number;
}

/**
 * The tray's numbers, read with the admin key over the same HTTP API the console uses (nothing is
 * reachable only through Electron). Over https the request is pinned to the appliance's certificate.
 */
export async function fetchApplianceStats(target: { localUrl: string; adminKey: string; tlsFingerprint: string | null; certificatePem: string | null }): Promise<ApplianceStats> {
  const options = { headers: { authorization: `Bearer ${target.adminKey}` }, fingerprint256: target.tlsFingerprint, certificatePem: target.certificatePem, timeoutMs: 3000 };
  const get = async <T>(path: string): Promise<T> => {
    const response = await applianceRequest(`${target.localUrl}${path}`, options);
    if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status}`);
    return JSON.parse(response.body) as T;
  };
  const [models, summary] = await Promise.all([
    get<{ models: unknown[] }>('/api/models'),
    get<{ models: { success: number; failure: number }[] }>('/api/metrics/summary'),
  ]);
  return { modelCount: models.models.length, totalRequests: totalRequests(summary), at: Date.now() };
}
