/**
 * The desktop app's preload bridge (electron/preload.cts, electron/desktopBridge.ts), present only
 * in the Electron window; a LAN browser has no `window.inferboxDesktop`.
 */
interface InferboxDesktopBridge {
  /** The admin key, handed only to the window's own loopback origin; null otherwise. */
  getAdminKey(): Promise<string | null>;
}

interface Window {
  inferboxDesktop?: InferboxDesktopBridge;
}
