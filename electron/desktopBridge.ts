/**
 * What the preload exposes to the console as `window.inferboxDesktop` (renderer/src/desktop.d.ts
 * declares the same shape for the console's own build).
 */
export interface DesktopBridge {
  /** The admin key, only for the window's own loopback origin; null otherwise or when there is none. */
  getAdminKey(): Promise<string | null>;
}

/** The IPC channel behind getAdminKey. */
export const GET_ADMIN_KEY_CHANNEL = 'inferbox:get-admin-key';
