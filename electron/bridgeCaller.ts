import { isLoopbackHost, originOf } from './loopback.js';

/** Who called the preload bridge, as the main process sees the IPC event. */
export interface BridgeCaller {
  /** The URL of the frame that asked (Electron: `event.senderFrame.url`). */
  frameUrl: string;
  /** The frame is the top frame of the app's own window (not an iframe, not another window). */
  fromAppWindowMainFrame: boolean;
  /** The loopback URL the supervisor reported for the running server (null while it is not ready). */
  serverLocalUrl: string | null;
}

/**
 * Whether a page may use the preload bridge (the admin key, the LAN switch): only the app's own
 * window, top frame, showing the running server's own loopback origin — same scheme, host and
 * port. A LAN address of the same appliance, another port, http vs https, or any other page the
 * window might have reached are refused: the key never leaves for web content from the network.
 */
export function isOwnConsoleFrame(request: BridgeCaller): boolean {
  if (!request.fromAppWindowMainFrame || !request.serverLocalUrl) return false;
  const server = originOf(request.serverLocalUrl);
  const frame = originOf(request.frameUrl);
  if (!server || !frame || frame !== server) return false;
  const { protocol, hostname } = new URL(request.serverLocalUrl);
  return (protocol === 'http:' || protocol === 'https:') && isLoopbackHost(hostname);
}

