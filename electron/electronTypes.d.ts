/**
 * The few Electron APIs electron/main.ts and electron/preload.cts use, declared here because the
 * `electron` package (and its binary) cannot be installed on the development machine. Shapes follow
 * Electron's documentation (v28+). Delete this file when `electron` becomes a devDependency: its
 * own declarations replace these.
 */
declare module 'electron' {
  interface Event { preventDefault(): void }

  interface Certificate { data: string; fingerprint: string }

  interface WebFrameMain { readonly url: string }

  interface WebContents {
    readonly id: number;
    readonly mainFrame: WebFrameMain;
    on(event: 'will-navigate' | 'will-redirect', listener: (event: Event, url: string) => void): this;
    setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' }): void;
  }

  interface IpcMainInvokeEvent { readonly sender: WebContents; readonly senderFrame: WebFrameMain | null }

  interface BrowserWindowConstructorOptions {
    width?: number;
    height?: number;
    show?: boolean;
    title?: string;
    icon?: NativeImage;
    webPreferences?: {
      preload?: string;
      contextIsolation?: boolean;
      sandbox?: boolean;
      nodeIntegration?: boolean;
      nodeIntegrationInWorker?: boolean;
      webSecurity?: boolean;
      allowRunningInsecureContent?: boolean;
      webviewTag?: boolean;
      spellcheck?: boolean;
    };
  }

  class BrowserWindow {
    constructor(options?: BrowserWindowConstructorOptions);
    readonly webContents: WebContents;
    loadURL(url: string): Promise<void>;
    show(): void;
    hide(): void;
    focus(): void;
    restore(): void;
    isMinimized(): boolean;
    isDestroyed(): boolean;
    on(event: 'close', listener: (event: Event) => void): this;
    on(event: 'closed', listener: () => void): this;
  }

  interface NativeImage { isEmpty(): boolean }
  const nativeImage: { createFromDataURL(dataUrl: string): NativeImage };

  interface MenuItemConstructorOptions {
    label?: string;
    type?: 'normal' | 'separator' | 'checkbox';
    enabled?: boolean;
    checked?: boolean;
    click?: () => void;
  }
  class Menu {
    static buildFromTemplate(template: MenuItemConstructorOptions[]): Menu;
  }

  class Tray {
    constructor(image: NativeImage);
    setToolTip(toolTip: string): void;
    setContextMenu(menu: Menu | null): void;
    on(event: 'click', listener: () => void): this;
  }

  class Notification {
    constructor(options: { title: string; body: string });
    static isSupported(): boolean;
    show(): void;
  }

  interface Session {
    setPermissionRequestHandler(handler: ((webContents: WebContents, permission: string, callback: (granted: boolean) => void) => void) | null): void;
  }

  const app: {
    requestSingleInstanceLock(): boolean;
    whenReady(): Promise<void>;
    quit(): void;
    exit(exitCode?: number): void;
    getPath(name: 'userData'): string;
    setLoginItemSettings(settings: { openAtLogin: boolean }): void;
    on(event: 'second-instance' | 'window-all-closed', listener: () => void): void;
    on(event: 'before-quit', listener: (event: Event) => void): void;
    on(
      event: 'certificate-error',
      listener: (event: Event, webContents: WebContents, url: string, error: string, certificate: Certificate, callback: (isTrusted: boolean) => void) => void,
    ): void;
  };
  const ipcMain: { handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void };
  const shell: { openExternal(url: string): Promise<void> };
  const clipboard: { writeText(text: string): void };
  const session: { defaultSession: Session };

  // Preload (renderer) side.
  const contextBridge: { exposeInMainWorld(apiKey: string, api: unknown): void };
  const ipcRenderer: { invoke(channel: string, ...args: unknown[]): Promise<unknown> };
}
