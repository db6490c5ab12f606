import type { ServiceOptions } from './ServiceOptions.js';

export const LAUNCHD_LABEL = 'com.inferbox.server';

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const string = (text: string) => `<string>${xml(text)}</string>`;

/**
 * The macOS LaunchDaemon (launchd.plist(5)): started at boot as `user`, restarted when it exits
 * with a failure (KeepAlive.SuccessfulExit = false, so a clean stop stays stopped), SIGTERM and
 * ExitTimeOut seconds to drain before SIGKILL.
 */
export function launchdPlist(o: ServiceOptions, logDir: string): string {
  const args = [o.nodePath, o.mainPath, 'serve', '--data-dir', o.dataDir, '--port', String(o.port)];
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>${string(LAUNCHD_LABEL)}
  <key>ProgramArguments</key>
  <array>
${args.map((a) => `    ${string(a)}`).join('\n')}
  </array>
  <key>UserName</key>${string(o.user)}
  <key>EnvironmentVariables</key>
  <dict>
    <key>INFERBOX_DATA_DIR</key>${string(o.dataDir)}
    <key>NODE_ENV</key>${string('production')}
  </dict>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key><false/>
  </dict>
  <key>ThrottleInterval</key><integer>5</integer>
  <key>ExitTimeOut</key><integer>30</integer>
  <key>Umask</key><integer>63</integer>
  <key>StandardOutPath</key>${string(`${logDir}/server.log`)}
  <key>StandardErrorPath</key>${string(`${logDir}/server.log`)}
</dict>
</plist>
`;
}
