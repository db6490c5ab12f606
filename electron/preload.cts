/**
 * The preload bridge: the only thing the console page gets from the desktop app. CommonJS (.cts →
 * .cjs) because a sandboxed preload cannot be an ES module; it can require only `electron`'s
 * renderer-side subset (so the channel names are written out here, matching desktopBridge.ts). No
 * Node objects cross the bridge, only strings and booleans: the main process decides who is
 * answered (electron/bridgeCaller.ts), the page only asks.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a sandboxed preload is CommonJS: no ES import syntax
import electron = require('electron');
import type { DesktopBridge } from './desktopBridge.js';

const bridge: DesktopBridge = {
  getAdminKey: async () => {
    const key = await electron.ipcRenderer.invoke('inferbox:get-admin-key');
    return typeof key === 'string' ? key : null;
  },
  getServeLan: async () => {
    const lan = await electron.ipcRenderer.invoke('inferbox:get-serve-lan');
    return typeof lan === 'boolean' ? lan : null;
  },
  setServeLan: async (lan: boolean) => (await electron.ipcRenderer.invoke('inferbox:set-serve-lan', lan === true)) === true,
};

electron.contextBridge.exposeInMainWorld('inferboxDesktop', bridge);
