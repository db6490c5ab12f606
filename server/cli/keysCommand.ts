import { join } from 'node:path';
import { ApiKeyService } from '../auth/ApiKeyService.js';
import { scopeSchema } from '../auth/scopes.js';
import { defaultDataDir } from '../config/defaultDataDir.js';
import { Store } from '../store/Store.js';
import { UsageError } from './parseServeOptions.js';

const USAGE = `usage:
  inferbox keys create --name NAME --scopes infer[,infer:<model>,admin] [--expires-at ISO-8601]
  inferbox keys list
  inferbox keys revoke ID
  (all take --data-dir DIR, or INFERBOX_DATA_DIR)`;

/**
 * `inferbox keys …`: manage API keys straight in the database, for a headless admin (works while
 * the server runs: SQLite WAL, and the server checks keys in the database on every request).
 */
export function keysCommand(args: string[], flags: Record<string, string | undefined>, say: (line: string) => void): void {
  const dataDir = flags['data-dir'] ?? process.env.INFERBOX_DATA_DIR ?? defaultDataDir();
  const store = Store.open(join(dataDir, 'inferbox.db'));
  try {
    const keys = new ApiKeyService(store.keys);
    const audit = (action: string, target: string, details: Record<string, unknown> | null) =>
      store.audit.insert({ ts: new Date().toISOString(), actor_id: null, actor_name: 'cli', action, target, details, remote_addr: null });
    const [action, id] = args;
    if (action === 'create') {
      if (!flags.name || !flags.scopes) throw new UsageError(USAGE);
      const scopes = flags.scopes.split(',').map((s) => s.trim());
      for (const scope of scopes) if (!scopeSchema.safeParse(scope).success) throw new UsageError(`unknown scope '${scope}'; ${USAGE}`);
      const expiresAt = flags['expires-at'] ? new Date(flags['expires-at']) : null;
      if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new UsageError(`--expires-at '${flags['expires-at']}' is not a date`);
      if (expiresAt && expiresAt.getTime() <= Date.now()) throw new UsageError(`--expires-at '${flags['expires-at']}' is not in the future`);
      const { row, key } = keys.createApiKey({ name: flags.name, scopes, expiresAt: expiresAt?.toISOString() ?? null });
      audit('key.create', row.id, { name: row.name, scopes: row.scopes, expires_at: row.expires_at });
      say(`Created key ${row.id} (${row.name}, scopes ${row.scopes.join(',')}). It is shown only now:`);
      say(key);
    } else if (action === 'list') {
      for (const k of keys.list()) say(`${k.id}  ${k.status.padEnd(7)}  ${k.name}  [${k.scopes.join(',')}]  last used ${k.last_used_at ?? 'never'}`);
    } else if (action === 'revoke' && id) {
      keys.revoke(id);
      audit('key.revoke', id, null);
      say(`Revoked key ${id}`);
    } else {
      throw new UsageError(USAGE);
    }
  } finally {
    store.close();
  }
}
