/**
 * The Electron main process, kept thin: it wires Electron's events to the plain modules beside it
 * (tested without Electron) and owns the window, the tray and the single-instance lock. The only
 * file that imports 'electron' (eslint.config.js enforces it); never run on the development
 * machine, where Electron's binary cannot be downloaded.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, clipboard, ipcMain, Menu, nativeImage, Notification, session, shell, Tray, type IpcMainInvokeEvent, type MenuItemConstructorOptions } from 'electron';
import { defaultDataDir } from '../server/config/defaultDataDir.js';
import { fetchApplianceStats } from './applianceStats.js';
import { readApplianceCertificate, trustApplianceCertificate } from './certificateTrust.js';
import { isOwnConsoleFrame, type BridgeCaller } from './bridgeCaller.js';
import { GET_ADMIN_KEY_CHANNEL, GET_SERVE_LAN_CHANNEL, SET_SERVE_LAN_CHANNEL } from './desktopBridge.js';
import { adminKeyFor, readAdminKey } from './desktopSignIn.js';
import { desktopSettingsPath, readDesktopSettings, serveArgs, writeDesktopSettings, type DesktopSettings } from './desktopSettings.js';
import { originOf } from './loopback.js';
import { decideNavigation, decideWindowOpen } from './navigationPolicy.js';
import { findRunningServer } from './findRunningServer.js';
import { ServerSupervisor, type ServerInfo, type SupervisorState } from './ServerSupervisor.js';
import { pickLanUrl, requestsPerMinute, stateNotice, trayMenu, type TrayAction } from './trayModel.js';

/** dist/electron/main.js → the package root, which holds dist/server and renderer/dist. */
const APP_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_ENTRY = join(APP_ROOT, 'dist', 'server', 'main.js');
const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const ICON = nativeImage.createFromDataURL('data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAiklEQVR42u3X0Q2AIAwEUJZxMhdxX4eo3yRFWnvSI2kTvu+pIG1ru9Vx3tfbWhEqk4XFOIJVSEZwHAIM9yMs4aOCICxP/hEgU4D1tQcAY4Tnu0cBKsKz6YIA4QN4jxwA0CM0ALoKUID9AEuPYf0JKS6j9OuYoiGhaMnSm1KKtpxiMKEZzSiG0z/rAY/S3569mK9MAAAAAElFTkSuQmCC');
const STATS_EVERY_MS = 5000;

/**
 * How the server runs: `child_process.spawn` of Electron's own binary with ELECTRON_RUN_AS_NODE=1,
 * not `utilityProcess.fork`. Both keep a native crash (onnxruntime, SQLite) out of the window's
 * process. This one is the code path tested here: the supervisor's tests spawn the same CLI with
 * plain `node` through the same ChildProcess interface (stdout banner, real signals, IPC), while a
 * utilityProcess cannot run without Electron. The server is a plain Node program (the headless
 * CLI), so Electron-as-Node runs it unchanged. Packaging must leave Electron's RunAsNode fuse on
 * (or switch this one function to utilityProcess). The IPC channel carries the Windows drain
 * request and lets the server stop itself if this process dies.
 */
const spawnServer = (args: string[]) =>
  spawn(process.execPath, [SERVER_ENTRY, ...args], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', INFERBOX_LOG_LEVEL: process.env.INFERBOX_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    windowsHide: true,
  });

if (!app.requestSingleInstanceLock()) {
  // Another Inferbox owns the data dir and the port: it shows its window (second-instance) and we leave.
  app.quit();
} else {
  void main();
}

async function main(): Promise<void> {
  const dataDir = process.env.INFERBOX_DATA_DIR ?? defaultDataDir();
  const settingsFile = desktopSettingsPath(app.getPath('userData'));
  let settings: DesktopSettings = await readDesktopSettings(settingsFile);
  let window: BrowserWindow | null = null;
  let tray: Tray | null = null;
  let server: ServerInfo | null = null;
  let paused = false;
  let quitting = false;
  let drained = false;
  let stats: { modelCount: number | null; requestsPerMinute: number | null; last: { at: number; total: number } | null } = { modelCount: null, requestsPerMinute: null, last: null };
  let previousState: SupervisorState | null = null;

  const notify = (body: string) => { if (Notification.isSupported()) new Notification({ title: 'Inferbox', body }).show(); };

  const supervisor = new ServerSupervisor({
    spawn: spawnServer,
    findRunning: () => findRunningServer(dataDir),
    args: serveArgs(settings, dataDir),
    onLog: (line, stream) => (stream === 'stderr' ? process.stderr : process.stdout).write(`[server] ${line}\n`),
    onState: (state) => {
      const notice = stateNotice(previousState, state);
      previousState = state;
      if (notice) notify(notice);
      if (state.kind === 'ready') {
        const before = server ? originOf(server.localUrl) : null;
        server = state;
        stats = { modelCount: null, requestsPerMinute: null, last: null };
        // The window opens when the server is first ready. After a restart on the same origin (a
        // fixed port) the open page keeps its in-memory sign-in; a new origin is loaded afresh.
        if (!window) createWindow(state.localUrl);
        else if (originOf(state.localUrl) !== before) void window.loadURL(state.localUrl);
      } else if (state.kind === 'failed' || state.kind === 'stopped') {
        server = null;
      }
      refreshTray();
    },
  });

  const openConsole = () => {
    if (!server) return;
    if (!window) createWindow(server.localUrl);
    else {
      if (window.isMinimized()) window.restore();
      window.show();
      window.focus();
    }
  };

  function createWindow(url: string): void {
    const win = new BrowserWindow({
      width: 1280,
      height: 860,
      show: false,
      title: 'Inferbox',
      icon: ICON,
      webPreferences: {
        preload: PRELOAD,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
      },
    });
    const serverOrigin = () => (server ? originOf(server.localUrl) : null);
    const guard = (event: { preventDefault(): void }, target: string) => {
      const decision = decideNavigation(target, serverOrigin());
      if (decision === 'allow') return;
      event.preventDefault();
      if (decision === 'open-external') void shell.openExternal(target);
    };
    win.webContents.on('will-navigate', guard);
    win.webContents.on('will-redirect', guard);
    win.webContents.setWindowOpenHandler(({ url: target }) => {
      if (decideWindowOpen(target) === 'open-external') void shell.openExternal(target);
      return { action: 'deny' };
    });
    // Closing the window hides it: the appliance keeps serving the LAN from the tray until Quit.
    win.on('close', (event) => {
      if (!quitting) {
        event.preventDefault();
        win.hide();
      }
    });
    win.on('closed', () => { if (window === win) window = null; });
    window = win;
    void win.loadURL(url).then(() => win.show());
  }

  function refreshTray(): void {
    if (!tray) return;
    const status = {
      server: supervisor.state,
      paused,
      modelCount: stats.modelCount,
      requestsPerMinute: stats.requestsPerMinute,
      lanUrl: server ? pickLanUrl(server.urls) : null,
      serveLan: settings.serveLan,
      startAtLogin: settings.startAtLogin,
    };
    const menu = trayMenu(status);
    const template: MenuItemConstructorOptions[] = menu.items.map((item) => {
      if (item.type === 'separator') return { type: 'separator' };
      if (item.type === 'status') return { label: item.label, enabled: false };
      if (item.type === 'checkbox') return { type: 'checkbox', label: item.label, checked: item.checked, click: () => void act(item.action) };
      return { label: item.label, enabled: item.enabled, click: () => void act(item.action) };
    });
    tray.setToolTip(menu.tooltip);
    tray.setContextMenu(Menu.buildFromTemplate(template));
  }

  async function act(action: TrayAction): Promise<void> {
    switch (action) {
      case 'open-console': openConsole(); break;
      case 'copy-lan-url': { const lan = server ? pickLanUrl(server.urls) : null; if (lan) clipboard.writeText(lan); break; }
      case 'pause': paused = true; refreshTray(); await supervisor.stop(); break;
      case 'resume': paused = false; supervisor.start(); break;
      case 'toggle-serve-lan': await switchServeLan(!settings.serveLan); break;
      case 'toggle-start-at-login':
        settings = { ...settings, startAtLogin: !settings.startAtLogin };
        app.setLoginItemSettings({ openAtLogin: settings.startAtLogin });
        await writeDesktopSettings(settingsFile, settings);
        break;
      case 'quit': app.quit(); break;
    }
    refreshTray();
  }

  /**
   * This computer only ↔ the office network: saved, then the server drains and starts again on the
   * new address; the window follows (onState loads the new origin). Pausing stays a pause.
   */
  async function switchServeLan(lan: boolean): Promise<void> {
    if (lan === settings.serveLan) return;
    settings = { ...settings, serveLan: lan };
    await writeDesktopSettings(settingsFile, settings);
    refreshTray();
    if (!paused) await supervisor.restartWith(serveArgs(settings, dataDir));
  }

  /** The IPC event as the bridge's access rule sees it. */
  const callerOf = (event: IpcMainInvokeEvent): BridgeCaller => ({
    frameUrl: event.senderFrame?.url ?? '',
    fromAppWindowMainFrame: window !== null && event.sender === window.webContents && event.senderFrame === event.sender.mainFrame,
    serverLocalUrl: server?.localUrl ?? null,
  });

  async function pollStats(): Promise<void> {
    const running = supervisor.state.kind === 'ready' ? server : null;
    if (!running) return;
    try {
      const adminKey = await readAdminKey(dataDir);
      if (!adminKey) return;
      // The certificate may have been renewed since the banner: pin the one in tls.crt now.
      const current = running.tlsFingerprint ? readApplianceCertificate(join(dataDir, 'tls.crt')) : null;
      const now = await fetchApplianceStats({ localUrl: running.localUrl, adminKey, tlsFingerprint: current?.fingerprint256 ?? running.tlsFingerprint, certificatePem: current?.pem ?? null });
      const sample = { at: now.at, total: now.totalRequests };
      stats = { modelCount: now.modelCount, requestsPerMinute: requestsPerMinute(stats.last, sample) ?? stats.requestsPerMinute, last: sample };
    } catch {
      stats = { ...stats, modelCount: null, requestsPerMinute: null };
    }
    refreshTray();
  }

  app.on('second-instance', openConsole);
  // The tray keeps the app (and the server) alive with no window open.
  app.on('window-all-closed', () => undefined);
  // Quit drains: the server finishes requests in flight before the process ends (ServerSupervisor.stop).
  app.on('before-quit', (event) => {
    quitting = true;
    if (drained) return;
    event.preventDefault();
    if (supervisor.state.kind === 'stopping') return;
    void supervisor.stop().finally(() => {
      drained = true;
      app.quit();
    });
  });
  app.on('certificate-error', (event, _webContents, url, _error, certificate, callback) => {
    const trusted = trustApplianceCertificate({
      url,
      certificatePem: certificate.data,
      applianceOrigin: server ? originOf(server.localUrl) : null,
      // Over HTTPS, the certificate the server serves now (renewals change it), as tls.crt says.
      applianceFingerprint256: server?.tlsFingerprint ? readApplianceCertificate(join(dataDir, 'tls.crt'))?.fingerprint256 ?? server.tlsFingerprint : null,
    });
    if (trusted) event.preventDefault();
    callback(trusted);
  });

  await app.whenReady();
  // The console needs no camera, microphone, notifications or geolocation: refuse every request.
  session.defaultSession.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  ipcMain.handle(GET_ADMIN_KEY_CHANNEL, (event) => adminKeyFor(callerOf(event), dataDir));
  ipcMain.handle(GET_SERVE_LAN_CHANNEL, (event) => (isOwnConsoleFrame(callerOf(event)) ? settings.serveLan : null));
  ipcMain.handle(SET_SERVE_LAN_CHANNEL, (event, lan: unknown) => {
    if (!isOwnConsoleFrame(callerOf(event)) || typeof lan !== 'boolean') return false;
    // Answered before the restart: the restart reloads the very page that asked.
    void switchServeLan(lan);
    return true;
  });
  app.setLoginItemSettings({ openAtLogin: settings.startAtLogin });
  tray = new Tray(ICON);
  tray.on('click', openConsole);
  refreshTray();
  setInterval(() => void pollStats(), STATS_EVERY_MS).unref();
  supervisor.start();
}
