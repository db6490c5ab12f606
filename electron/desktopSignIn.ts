import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isLoopbackHost, originOf } from './loopback.js';

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

export interface AdminKeyRequest {
  /** The URL of the frame that asked (Electron: `event.senderFrame.url`). */
  frameUrl: string;
  /** The frame is the top frame of the app's own window (not an iframe, not another window). */
  fromAppWindowMainFrame: boolean;
  /** The loopback URL the supervisor reported for the running server (null while it is not ready). */
  serverLocalUrl: string | null;
}

/**
 * Whether the preload bridge may hand the admin key to the page that asked: only the app's own
 * window, top frame, showing the running server's own loopback origin — same scheme, host and
 * port. A LAN address of the same appliance, another port, http vs https, or any other page the
 * window might have reached are refused: the key never leaves for web content from the network.
 */
export function mayReceiveAdminKey(request: AdminKeyRequest): boolean {
  if (!request.fromAppWindowMainFrame || !request.serverLocalUrl) return false;
  const server = originOf(request.serverLocalUrl);
  const frame = originOf(request.frameUrl);
  if (!server || !frame || frame !== server) return false;
  const { protocol, hostname } = new URL(request.serverLocalUrl);
  return (protocol === 'http:' || protocol === 'https:') && isLoopbackHost(hostname);
}

/** The answer to the bridge's `getAdminKey()`: the key for the window's own origin, null for anyone else. */
export async function adminKeyFor(request: AdminKeyRequest, dataDir: string): Promise<string | null> {
  return mayReceiveAdminKey(request) ? readAdminKey(dataDir) : null;
}
