import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import { gpuDeviceAccess, NO_GPU_ACCESS } from '../../../server/service/gpuDeviceAccess.js';
import { launchdPlist } from '../../../server/service/launchdPlist.js';
import type { ServiceOptions } from '../../../server/service/ServiceOptions.js';
import { serviceInstallPlan, serviceUninstallPlan, SYSTEMD_UNIT_PATH } from '../../../server/service/servicePlan.js';
import { systemdUnit } from '../../../server/service/systemdUnit.js';
import { windowsTaskXml } from '../../../server/service/windowsTaskXml.js';
import { INTEL_AMD_BOX, NO_GPU_BOX, NVIDIA_BOX } from '../../helpers/deviceListings.js';

const OPTIONS: ServiceOptions = { nodePath: '/usr/bin/node', mainPath: '/opt/inferbox/dist/server/main.js', dataDir: '/var/lib/inferbox', user: 'inferbox', port: 8000, gpu: NO_GPU_ACCESS };
const MAIN = new URL('../../../server/main.ts', import.meta.url).pathname;
const scratch = await mkdtemp(join(tmpdir(), 'inferbox-service-'));
after(() => rm(scratch, { recursive: true, force: true }));

/** The unit's settings as key → values (a key may repeat: Environment=). */
function directives(unit: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const match = /^(\w+)=(.*)$/.exec(line);
    if (match) map.set(match[1]!, [...(map.get(match[1]!) ?? []), match[2]!]);
  }
  return map;
}

describe('systemd unit', () => {
  const unit = directives(systemdUnit(OPTIONS));
  const one = (key: string) => unit.get(key)?.join('\n');

  test('runs the CLI as the dedicated user on the service data dir, restarts only on failure, leaves time to drain', () => {
    assert.equal(one('User'), 'inferbox');
    assert.equal(one('Group'), 'inferbox');
    assert.equal(one('ExecStart'), '/usr/bin/node /opt/inferbox/dist/server/main.js serve --data-dir /var/lib/inferbox --port 8000');
    assert.equal(one('Restart'), 'on-failure');
    assert.equal(one('KillSignal'), 'SIGTERM');
    assert.equal(one('TimeoutStopSec'), '30', 'longer than shutdown_drain_seconds (10 s)');
    assert.deepEqual(unit.get('Environment'), ['INFERBOX_DATA_DIR=/var/lib/inferbox', 'NODE_ENV=production']);
    assert.equal(one('WantedBy'), 'multi-user.target');
  });

  test('is hardened: read-only system except the data dir, no privilege gain, private /tmp and devices, no capabilities', () => {
    assert.equal(one('ProtectSystem'), 'strict');
    assert.equal(one('ReadWritePaths'), '/var/lib/inferbox');
    assert.equal(one('NoNewPrivileges'), 'yes');
    assert.equal(one('PrivateTmp'), 'yes');
    assert.equal(one('PrivateDevices'), 'yes');
    assert.equal(one('ProtectHome'), 'yes');
    assert.equal(one('CapabilityBoundingSet'), '');
    assert.equal(one('UMask'), '0077');
    assert.equal(unit.has('MemoryDenyWriteExecute'), false, "V8's JIT needs writable executable memory");
  });

  test('adapts: a port below 1024 gets only CAP_NET_BIND_SERVICE, an install under /home stays readable, paths with spaces are quoted', () => {
    const low = directives(systemdUnit({ ...OPTIONS, port: 443 }));
    assert.deepEqual(low.get('CapabilityBoundingSet'), ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(low.get('AmbientCapabilities'), ['CAP_NET_BIND_SERVICE']);
    const home = directives(systemdUnit({ ...OPTIONS, mainPath: '/home/ada/inferbox/dist/server/main.js', dataDir: '/srv/infer box' }));
    assert.deepEqual(home.get('ProtectHome'), ['read-only']);
    assert.deepEqual(home.get('ReadWritePaths'), ['"/srv/infer box"']);
    assert.match(home.get('ExecStart')![0]!, /--data-dir "\/srv\/infer box" --port/);
  });

  test('systemd itself accepts the unit, with and without GPU nodes (systemd-analyze verify prints no warning)', async (t) => {
    if (spawnSync('systemd-analyze', ['--version']).status !== 0) return t.skip('systemd-analyze is not installed here');
    const cases = { 'no-gpu': NO_GPU_ACCESS, nvidia: gpuDeviceAccess(NVIDIA_BOX, BOTH), 'intel-amd': gpuDeviceAccess(INTEL_AMD_BOX, BOTH) };
    for (const [name, gpu] of Object.entries(cases)) {
      const path = join(scratch, `inferbox-${name}.service`);
      await writeFile(path, systemdUnit({ ...OPTIONS, nodePath: process.execPath, user: 'root', gpu }));
      const result = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
      assert.equal(result.status, 0, `${name}: ${result.stderr}`);
      assert.equal(result.stderr.trim(), '', `${name}: no ignored or unknown directive`);
    }
  });
});

const BOTH = { cuda: true, webgpu: true };
/** Every hardening line but the device ones, as the no-GPU unit has them. */
const HARDENING: ReadonlyArray<[string, string]> = [
  ['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ReadWritePaths', '/var/lib/inferbox'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'],
  ['PrivateDevices', 'yes'], ['ProtectKernelTunables', 'yes'], ['ProtectKernelModules', 'yes'], ['ProtectKernelLogs', 'yes'], ['ProtectControlGroups', 'yes'],
  ['ProtectClock', 'yes'], ['ProtectHostname', 'yes'], ['RestrictSUIDSGID', 'yes'], ['RestrictRealtime', 'yes'], ['RestrictNamespaces', 'yes'],
  ['LockPersonality', 'yes'], ['SystemCallArchitectures', 'native'], ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX AF_NETLINK'],
  ['CapabilityBoundingSet', ''], ['AmbientCapabilities', ''], ['UMask', '0077'],
];
const DEVICE_KEYS = ['DevicePolicy', 'DeviceAllow', 'BindPaths', 'SupplementaryGroups'];

/** The unit's lines from PrivateDevices= up to the next hardening line. */
function deviceBlock(unit: string): string[] {
  const lines = unit.split('\n');
  const from = lines.indexOf('PrivateDevices=yes');
  return lines.slice(from, lines.indexOf('ProtectKernelTunables=yes', from));
}

describe('systemd unit: GPU devices', () => {
  const units = {
    'no GPU': systemdUnit({ ...OPTIONS, gpu: gpuDeviceAccess(NO_GPU_BOX, BOTH) }),
    NVIDIA: systemdUnit({ ...OPTIONS, gpu: gpuDeviceAccess(NVIDIA_BOX, BOTH) }),
    'Intel/AMD': systemdUnit({ ...OPTIONS, gpu: gpuDeviceAccess(INTEL_AMD_BOX, BOTH) }),
    'no render group': systemdUnit({ ...OPTIONS, gpu: gpuDeviceAccess({ ...INTEL_AMD_BOX, groups: ['root', 'video'] }, BOTH) }),
    'neither group': systemdUnit({ ...OPTIONS, gpu: gpuDeviceAccess({ ...NVIDIA_BOX, groups: ['root'] }, BOTH) }),
  };

  test('no GPU: all physical devices hidden, no device or group line', () => {
    assert.deepEqual(deviceBlock(units['no GPU']), ['PrivateDevices=yes']);
    const unit = directives(units['no GPU']);
    for (const key of DEVICE_KEYS) assert.equal(unit.has(key), false, key);
  });

  test('NVIDIA box: the private /dev gets each GPU, the control and UVM nodes and the render node, read-write, and the render and video groups', () => {
    assert.deepEqual(deviceBlock(units.NVIDIA), [
      'PrivateDevices=yes',
      'DevicePolicy=closed',
      'BindPaths=-/dev/nvidia0', 'DeviceAllow=/dev/nvidia0 rw',
      'BindPaths=-/dev/nvidia1', 'DeviceAllow=/dev/nvidia1 rw',
      'BindPaths=-/dev/nvidiactl', 'DeviceAllow=/dev/nvidiactl rw',
      'BindPaths=-/dev/nvidia-uvm', 'DeviceAllow=/dev/nvidia-uvm rw',
      'BindPaths=-/dev/nvidia-uvm-tools', 'DeviceAllow=/dev/nvidia-uvm-tools rw',
      'BindPaths=-/dev/dri/renderD128', 'DeviceAllow=/dev/dri/renderD128 rw',
      'SupplementaryGroups=render video',
    ]);
  });

  test('Intel/AMD box: the render node only (not card0), render and video', () => {
    assert.deepEqual(deviceBlock(units['Intel/AMD']), [
      'PrivateDevices=yes', 'DevicePolicy=closed', 'BindPaths=-/dev/dri/renderD128', 'DeviceAllow=/dev/dri/renderD128 rw', 'SupplementaryGroups=render video',
    ]);
    assert.doesNotMatch(units['Intel/AMD'], /card0/);
  });

  test('groups missing from /etc/group are not named (systemd would refuse to start the unit)', () => {
    assert.deepEqual(directives(units['no render group']).get('SupplementaryGroups'), ['video']);
    const neither = directives(units['neither group']);
    assert.equal(neither.has('SupplementaryGroups'), false);
    assert.equal(neither.get('DeviceAllow')?.length, 6, 'the nodes are still allowed');
  });

  test('every other hardening line is there, once, in every case', () => {
    for (const [name, text] of Object.entries(units)) {
      const unit = directives(text);
      for (const [key, value] of HARDENING) assert.deepEqual(unit.get(key), [value], `${name}: ${key}`);
      assert.equal(unit.has('MemoryDenyWriteExecute'), false, name);
    }
  });
});

describe('install and uninstall plans', () => {
  test('Linux: a system user (only if missing), the data dir it owns, the unit, daemon-reload, enable --now; uninstall keeps the data', () => {
    const steps = serviceInstallPlan('linux', OPTIONS);
    assert.deepEqual(steps.map((s) => (s.kind === 'run' ? s.argv.slice(0, 3).join(' ') : `${s.kind} ${s.path}`)), [
      'useradd --system --user-group',
      'install -d -m',
      `write ${SYSTEMD_UNIT_PATH}`,
      'systemctl daemon-reload',
      'systemctl enable --now',
    ]);
    assert.deepEqual(steps[0]!.kind === 'run' && steps[0]!.unless, ['id', '-u', 'inferbox']);
    assert.ok(steps[1]!.kind === 'run' && steps[1]!.argv.join(' ') === 'install -d -m 0700 -o inferbox -g inferbox /var/lib/inferbox');
    const uninstall = serviceUninstallPlan('linux');
    assert.deepEqual(uninstall.map((s) => (s.kind === 'run' ? s.argv.join(' ') : `${s.kind} ${s.path}`)), ['systemctl disable --now inferbox.service', `remove ${SYSTEMD_UNIT_PATH}`, 'systemctl daemon-reload']);
  });

  test('macOS: a LaunchDaemon that restarts after a failure only, as the given user; launchctl bootstrap / bootout', () => {
    const plist = launchdPlist(OPTIONS, '/Library/Logs/Inferbox');
    assert.match(plist, /<key>KeepAlive<\/key>\s*<dict>\s*<key>SuccessfulExit<\/key><false\/>/);
    assert.match(plist, /<key>UserName<\/key><string>inferbox<\/string>/);
    assert.match(plist, /<string>\/opt\/inferbox\/dist\/server\/main\.js<\/string>\s*<string>serve<\/string>/);
    assert.match(plist, /<key>ExitTimeOut<\/key><integer>30<\/integer>/);
    const runs = serviceInstallPlan('darwin', OPTIONS).filter((s) => s.kind === 'run').map((s) => (s.kind === 'run' ? s.argv.join(' ') : ''));
    assert.ok(runs.includes('launchctl bootstrap system /Library/LaunchDaemons/com.inferbox.server.plist'), runs.join('\n'));
    assert.deepEqual(serviceUninstallPlan('darwin')[0], { kind: 'run', argv: ['launchctl', 'bootout', 'system/com.inferbox.server'], mayFail: true });
  });

  test('Windows: a boot task as LocalSystem that restarts after failures, a firewall rule for the port on private and domain networks', () => {
    const windows = { ...OPTIONS, nodePath: 'C:\\Program Files\\nodejs\\node.exe', mainPath: 'C:\\Program Files\\Inferbox\\dist\\server\\main.js', dataDir: 'C:\\ProgramData\\Inferbox' };
    const xml = windowsTaskXml(windows);
    assert.match(xml, /<BootTrigger>/);
    assert.match(xml, /<UserId>S-1-5-18<\/UserId>/);
    assert.match(xml, /<RestartOnFailure><Interval>PT1M<\/Interval><Count>999<\/Count><\/RestartOnFailure>/);
    assert.match(xml, /<ExecutionTimeLimit>PT0S<\/ExecutionTimeLimit>/);
    assert.match(xml, /<Command>C:\\Program Files\\nodejs\\node\.exe<\/Command>/);
    assert.match(xml, /<Arguments>&quot;C:\\Program Files\\Inferbox\\dist\\server\\main\.js&quot; serve --data-dir C:\\ProgramData\\Inferbox --port 8000<\/Arguments>/);
    const steps = serviceInstallPlan('win32', windows, { ProgramData: 'C:\\ProgramData' });
    assert.ok(steps[0]!.kind === 'write' && steps[0]!.encoding === 'utf16le' && steps[0]!.content.startsWith('\ufeff'));
    const runs = steps.flatMap((s) => (s.kind === 'run' ? [s.argv.join(' ')] : []));
    assert.deepEqual(runs, [
      'schtasks /Create /TN Inferbox /XML C:\\ProgramData\\Inferbox\\inferbox-task.xml /F',
      'netsh advfirewall firewall add rule name=Inferbox dir=in action=allow protocol=TCP localport=8000 profile=private,domain',
      'schtasks /Run /TN Inferbox',
    ]);
    assert.ok(serviceUninstallPlan('win32').some((s) => s.kind === 'run' && s.argv.join(' ') === 'netsh advfirewall firewall delete rule name=Inferbox'));
  });
});

test('`inferbox service install --dry-run` (the real CLI) prints the unit and the commands and changes nothing', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, 'service', 'install', '--dry-run', '--port', '8123'], { env: { ...process.env, INFERBOX_LOG_LEVEL: 'silent' } });
  if (process.platform === 'linux') {
    assert.match(stdout, /unless `id -u inferbox` succeeds: useradd --system/);
    assert.match(stdout, new RegExp(`write ${SYSTEMD_UNIT_PATH} \\(mode 644\\):`));
    assert.match(stdout, /ExecStart=\S+ \S+main\.ts serve --data-dir \/var\/lib\/inferbox --port 8123/);
    assert.match(stdout, /- systemctl enable --now inferbox\.service/);
    assert.match(stdout, /^ {4}PrivateDevices=yes$/m);
    const allowed = [...stdout.matchAll(/^ {4}DeviceAllow=(\S+) rw$/gm)].map((m) => m[1]!);
    for (const node of allowed) assert.ok(node.startsWith('/dev/nvidia-uvm') || existsSync(node), `${node} is a node of this machine`);
  }
  assert.match(stdout, /^Dry run: 'service install' would do, in order:/);
  const refused = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, 'service', 'restart'], { env: process.env }).then(() => null, (e: { code: number; stderr: string }) => e);
  assert.equal(refused?.code, 2);
  assert.match(refused!.stderr, /usage: inferbox service install\|uninstall/);
});
