import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiKeyService } from './ApiKeyService.js';

export const ADMIN_KEY_FILE = 'admin.key';

/**
 * On first start (no usable admin key in the database) creates one and writes it to
 * `<data-dir>/admin.key`, readable by the owner only: the only place a raw key is ever written.
 * Returns the raw key only when it was created now, so the caller can show it once.
 */
export async function ensureAdminKey(keys: ApiKeyService, dataDir: string): Promise<{ path: string; createdKey: string | null; createdKeyId: string | null }> {
  const path = join(dataDir, ADMIN_KEY_FILE);
  if (keys.hasUsableAdminKey()) return { path, createdKey: null, createdKeyId: null };
  const { key, row } = keys.createApiKey({ name: 'admin', scopes: ['admin'] });
  await writeFile(path, `${key}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return { path, createdKey: key, createdKeyId: row.id };
}
