import { assertVersion } from '../common/names.js';
import type { ModelRegistry } from './ModelRegistry.js';

/**
 * Whether the named version (else the active one) can answer now: 404 for unknown names. An
 * idle-unloaded version counts as ready: its next request loads it again and is answered.
 */
export function modelReadiness(registry: ModelRegistry, name: string, version: string | undefined): { version: string | null; ready: boolean } {
  const model = registry.getModel(name);
  const chosen = version === undefined ? model.active_version : assertVersion(version);
  const view = chosen === null ? undefined : registry.getVersion(name, chosen);
  return { version: chosen, ready: view?.state === 'ready' || view?.state === 'idle' };
}
