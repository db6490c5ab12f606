import { join, win32 } from 'node:path';
import { launchdPlist, LAUNCHD_LABEL } from './launchdPlist.js';
import { SERVICE_NAME, type ServiceOptions } from './ServiceOptions.js';
import { systemdUnit } from './systemdUnit.js';
import { windowsTaskXml } from './windowsTaskXml.js';

/** One step of an install or uninstall, run in order; `unless` skips a run when that command succeeds (the user exists already). */
export type ServiceStep =
  | { kind: 'write'; path: string; content: string; mode: number; encoding: 'utf8' | 'utf16le' }
  | { kind: 'remove'; path: string }
  | { kind: 'run'; argv: string[]; unless?: string[]; mayFail?: boolean };

export const SYSTEMD_UNIT_PATH = `/etc/systemd/system/${SERVICE_NAME}.service`;
const LAUNCHD_PLIST_PATH = `/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`;
const MAC_LOG_DIR = '/Library/Logs/Inferbox';
const WINDOWS_TASK = 'Inferbox';
const FIREWALL_RULE = 'Inferbox';

function windowsTaskFile(env: NodeJS.ProcessEnv): string {
  return win32.join(env.ProgramData ?? 'C:\\ProgramData', 'Inferbox', 'inferbox-task.xml');
}

/**
 * What `service install` does, as data (so a dry run prints exactly what would run, and the tests
 * read it): a dedicated system user and the data dir it owns, the service definition, then the
 * platform's manager starts it now and at every boot. On Windows an inbound rule opens the port on
 * private and domain networks (an office LAN, not a café's).
 */
export function serviceInstallPlan(platform: NodeJS.Platform, o: ServiceOptions, env: NodeJS.ProcessEnv = process.env): ServiceStep[] {
  if (platform === 'linux') {
    return [
      { kind: 'run', argv: ['useradd', '--system', '--user-group', '--home-dir', o.dataDir, '--no-create-home', '--shell', '/usr/sbin/nologin', o.user], unless: ['id', '-u', o.user] },
      { kind: 'run', argv: ['install', '-d', '-m', '0700', '-o', o.user, '-g', o.user, o.dataDir] },
      { kind: 'write', path: SYSTEMD_UNIT_PATH, content: systemdUnit(o), mode: 0o644, encoding: 'utf8' },
      { kind: 'run', argv: ['systemctl', 'daemon-reload'] },
      { kind: 'run', argv: ['systemctl', 'enable', '--now', `${SERVICE_NAME}.service`] },
    ];
  }
  if (platform === 'darwin') {
    return [
      { kind: 'run', argv: ['mkdir', '-p', MAC_LOG_DIR] },
      { kind: 'run', argv: ['install', '-d', '-m', '0700', '-o', o.user, o.dataDir] },
      { kind: 'write', path: LAUNCHD_PLIST_PATH, content: launchdPlist(o, MAC_LOG_DIR), mode: 0o644, encoding: 'utf8' },
      { kind: 'run', argv: ['launchctl', 'bootstrap', 'system', LAUNCHD_PLIST_PATH] },
    ];
  }
  if (platform === 'win32') {
    const taskFile = windowsTaskFile(env);
    return [
      // schtasks reads task XML as UTF-16 (the encoding its declaration names), with a byte-order mark.
      { kind: 'write', path: taskFile, content: `\ufeff${windowsTaskXml(o)}`, mode: 0o644, encoding: 'utf16le' },
      { kind: 'run', argv: ['schtasks', '/Create', '/TN', WINDOWS_TASK, '/XML', taskFile, '/F'] },
      { kind: 'run', argv: ['netsh', 'advfirewall', 'firewall', 'add', 'rule', `name=${FIREWALL_RULE}`, 'dir=in', 'action=allow', 'protocol=TCP', `localport=${o.port}`, 'profile=private,domain'] },
      { kind: 'run', argv: ['schtasks', '/Run', '/TN', WINDOWS_TASK] },
    ];
  }
  throw new Error(`no service definition for ${platform}`);
}

/** Stops and removes the service and its definition; the data dir and the user stay (the data is the admin's to delete). */
export function serviceUninstallPlan(platform: NodeJS.Platform, env: NodeJS.ProcessEnv = process.env): ServiceStep[] {
  if (platform === 'linux') {
    return [
      { kind: 'run', argv: ['systemctl', 'disable', '--now', `${SERVICE_NAME}.service`], mayFail: true },
      { kind: 'remove', path: SYSTEMD_UNIT_PATH },
      { kind: 'run', argv: ['systemctl', 'daemon-reload'] },
    ];
  }
  if (platform === 'darwin') {
    return [
      { kind: 'run', argv: ['launchctl', 'bootout', `system/${LAUNCHD_LABEL}`], mayFail: true },
      { kind: 'remove', path: LAUNCHD_PLIST_PATH },
    ];
  }
  if (platform === 'win32') {
    return [
      { kind: 'run', argv: ['schtasks', '/End', '/TN', WINDOWS_TASK], mayFail: true },
      { kind: 'run', argv: ['schtasks', '/Delete', '/TN', WINDOWS_TASK, '/F'], mayFail: true },
      { kind: 'run', argv: ['netsh', 'advfirewall', 'firewall', 'delete', 'rule', `name=${FIREWALL_RULE}`], mayFail: true },
      { kind: 'remove', path: windowsTaskFile(env) },
    ];
  }
  throw new Error(`no service definition for ${platform}`);
}

/** The data dir a system service uses when none is given (Linux: FHS variable state of a system service). */
export function defaultServiceDataDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'win32') return win32.join(env.ProgramData ?? 'C:\\ProgramData', 'Inferbox');
  if (platform === 'darwin') return join('/Library', 'Application Support', 'Inferbox');
  return '/var/lib/inferbox';
}
