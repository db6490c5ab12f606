/**
 * The desktop app's preload bridge (electron/preload.cts, electron/desktopBridge.ts), present only
 * in the Electron window; a LAN browser has no `window.inferboxDesktop`.
 */
interface InferboxDesktopBridge {
  /** The admin key, handed only to the window's own loopback origin; null otherwise. */
  getAdminKey(): Promise<string | null>;
  /** Whether the desktop app serves the office network (true) or this computer only (false); null when not answered. */
  getServeLan(): Promise<boolean | null>;
  /** Switches: the app restarts the server on the new address and the window reloads there. */
  setServeLan(lan: boolean): Promise<boolean>;
}

interface Window {
  inferboxDesktop?: InferboxDesktopBridge;
}
