import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isOwnConsoleFrame, type BridgeCaller } from './bridgeCaller.js';

/** The file the server writes its admin key to (server/auth/ensureAdminKey.ts, ADMIN_KEY_FILE). */
export const ADMIN_KEY_FILE = 'admin.key';
const KEY_SHAPE = /^ibx_[A-Za-z0-9]+_[A-Za-z0-9_-]+$/;

/** The admin key from the data dir, or null when there is none (yet) or the file is not a key. */
export async function readAdminKey(dataDir: string): Promise<string | null> {
  try {
    const key = (await readFile(join(dataDir, ADMIN_KEY_FILE), 'utf8')).trim();
    return KEY_SHAPE.test(key) ? key : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The answer to the bridge's `getAdminKey()`: the key for the window's own origin, null for anyone else. */
export async function adminKeyFor(caller: BridgeCaller, dataDir: string): Promise<string | null> {
  return isOwnConsoleFrame(caller) ? readAdminKey(dataDir) : null;
}
