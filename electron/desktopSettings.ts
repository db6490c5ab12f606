import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The desktop shell's own settings (the server's live in its database). */
export interface DesktopSettings {
  /** Start the app (hidden to the tray) when the user logs in. Off by default. */
  startAtLogin: boolean;
  /** Serve the LAN (bind 0.0.0.0, HTTPS) instead of this computer only (127.0.0.1, HTTP). */
  serveLan: boolean;
}

export const DEFAULT_DESKTOP_SETTINGS: DesktopSettings = { startAtLogin: false, serveLan: false };

export const desktopSettingsPath = (userDataDir: string) => join(userDataDir, 'desktop-settings.json');

/** Saved settings over the defaults; a missing or unreadable file gives the defaults. */
export async function readDesktopSettings(path: string): Promise<DesktopSettings> {
  try {
    const saved = JSON.parse(await readFile(path, 'utf8')) as Partial<Record<keyof DesktopSettings, unknown>>;
    return {
      startAtLogin: typeof saved.startAtLogin === 'boolean' ? saved.startAtLogin : DEFAULT_DESKTOP_SETTINGS.startAtLogin,
      serveLan: typeof saved.serveLan === 'boolean' ? saved.serveLan : DEFAULT_DESKTOP_SETTINGS.serveLan,
    };
  } catch {
    return { ...DEFAULT_DESKTOP_SETTINGS };
  }
}

/** Written to a temp file and renamed, so a crash never leaves half a file. */
export async function writeDesktopSettings(path: string, settings: DesktopSettings): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, `${JSON.stringify(settings, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

/** The `serve` flags for the desktop app: the shared data dir, and the bind the user chose. */
export function serveArgs(settings: DesktopSettings, dataDir: string): string[] {
  return ['--host', settings.serveLan ? '0.0.0.0' : '127.0.0.1', '--data-dir', dataDir];
}
