import type { ServiceOptions } from './ServiceOptions.js';

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Windows command-line quoting for one argument (CommandLineToArgvW rules, no embedded quotes in our paths). */
const quote = (arg: string) => (/[\s"]/.test(arg) ? `"${arg.replace(/"/g, '\\"')}"` : arg);

/**
 * The Windows definition: a Task Scheduler task (schtasks /Create /XML) that starts at boot as
 * LocalSystem, without a logged-in user, restarts after a failure (every minute, up to 999 times)
 * and has no run-time limit. Not `sc.exe create`: node.exe is not a service program (it never calls
 * StartServiceCtrlDispatcher), so the service manager would kill it after 30 s (error 1053), and a
 * wrapper such as WinSW would be a download (docs/ARCHITECTURE.md, "Run as a service").
 */
export function windowsTaskXml(o: ServiceOptions): string {
  const args = [o.mainPath, 'serve', '--data-dir', o.dataDir, '--port', String(o.port)].map(quote).join(' ');
  return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.4" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo><Description>Inferbox model server (OIP v2 inference, admin console)</Description></RegistrationInfo>
  <Triggers><BootTrigger><Enabled>true</Enabled></BootTrigger></Triggers>
  <Principals><Principal id="Author"><UserId>S-1-5-18</UserId><RunLevel>LeastPrivilege</RunLevel></Principal></Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure><Interval>PT1M</Interval><Count>999</Count></RestartOnFailure>
    <StartWhenAvailable>true</StartWhenAvailable>
    <Enabled>true</Enabled>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>${xml(o.nodePath)}</Command>
      <Arguments>${xml(args)}</Arguments>
    </Exec>
  </Actions>
</Task>
`;
}
