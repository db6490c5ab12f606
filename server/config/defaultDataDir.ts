import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The one data folder shared by the headless server and the desktop app, where each OS keeps
 * per-user application data: XDG on Linux, Application Support on macOS, %APPDATA% on Windows.
 */
export function defaultDataDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Inferbox');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Inferbox');
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'inferbox');
}
