/**
 * What the preload exposes to the console as `window.inferboxDesktop` (renderer/src/desktop.d.ts
 * declares the same shape for the console's own build). Every call is answered only for the app
 * window's own loopback console (electron/bridgeCaller.ts); anyone else gets null/false.
 */
export interface DesktopBridge {
  /** The admin key; null when there is none or the page may not have it. */
  getAdminKey(): Promise<string | null>;
  /** true: the desktop app serves the office network; false: this computer only; null: not answered. */
  getServeLan(): Promise<boolean | null>;
  /**
   * Serves the office network (true) or this computer only (false): the app saves the choice and
   * restarts the server on the new address (it drains first), and the window reloads there.
   * Resolves true when the switch was accepted.
   */
  setServeLan(lan: boolean): Promise<boolean>;
}

/** The IPC channels behind the bridge. */
export const GET_ADMIN_KEY_CHANNEL = 'inferbox:get-admin-key';
export const GET_SERVE_LAN_CHANNEL = 'inferbox:get-serve-lan';
export const SET_SERVE_LAN_CHANNEL = 'inferbox:set-serve-lan';
