/**
 * The preload bridge: the only thing the console page gets from the desktop app. CommonJS (.cts →
 * .cjs) because a sandboxed preload cannot be an ES module; it can require only `electron`'s
 * renderer-side subset. One function, no arguments, no Node objects across the bridge: the main
 * process decides who gets the key (electron/desktopSignIn.ts), the page only asks.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a sandboxed preload is CommonJS: no ES import syntax
import electron = require('electron');
import type { DesktopBridge } from './desktopBridge.js';

const bridge: DesktopBridge = {
  getAdminKey: async () => {
    const key = await electron.ipcRenderer.invoke('inferbox:get-admin-key');
    return typeof key === 'string' ? key : null;
  },
};

electron.contextBridge.exposeInMainWorld('inferboxDesktop', bridge);
