import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { detectProviders } from '../runtime/detectProviders.js';
import { gpuDeviceAccess, groupNames, NO_GPU_ACCESS, type GpuDeviceAccess } from '../service/gpuDeviceAccess.js';
import { SERVICE_NAME, type ServiceOptions } from '../service/ServiceOptions.js';
import { defaultServiceDataDir, serviceInstallPlan, serviceUninstallPlan, type ServiceStep } from '../service/servicePlan.js';
import { UsageError } from './parseServeOptions.js';

const USAGE = 'usage: inferbox service install|uninstall [--dry-run] [--data-dir DIR] [--port N] [--user NAME]  (npm run service:install -- --dry-run)';

function describe(step: ServiceStep): string {
  if (step.kind === 'write') return `write ${step.path} (mode ${step.mode.toString(8)}):\n${step.content.replace(/^\ufeff/, '').replace(/^/gm, '    ')}`;
  if (step.kind === 'remove') return `remove ${step.path}`;
  return `${step.unless ? `unless \`${step.unless.join(' ')}\` succeeds: ` : ''}${step.argv.join(' ')}`;
}

/** Entries of a directory, or none when it does not exist (no /dev/dri without a DRM driver). */
function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The GPU nodes of this machine that this build's providers can use. WebGPU: onnxruntime-node 1.30
 * ships it in the Linux x64 build only (its library carries Dawn and its binding offers 'webgpu';
 * the arm64 ones do neither), and an operator can select it at any time (--provider webgpu), so its
 * nodes are allowed whenever the build has it. CUDA: when its provider library is installed.
 */
function linuxGpuAccess(): GpuDeviceAccess {
  let etcGroup = '';
  try {
    etcGroup = readFileSync('/etc/group', 'utf8');
  } catch {
    // No /etc/group: no group is named, the nodes are still allowed.
  }
  const providers = { cuda: detectProviders('linux').cuda === true, webgpu: process.arch === 'x64' };
  return gpuDeviceAccess({ dev: entries('/dev'), dri: entries('/dev/dri'), groups: groupNames(etcGroup) }, providers);
}

function succeeds(argv: string[]): boolean {
  try {
    execFileSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function perform(step: ServiceStep, say: (line: string) => void): void {
  say(describe(step).split('\n')[0]!);
  if (step.kind === 'write') {
    mkdirSync(dirname(step.path), { recursive: true });
    writeFileSync(step.path, step.content, { mode: step.mode, encoding: step.encoding });
  } else if (step.kind === 'remove') {
    rmSync(step.path, { force: true });
  } else if (!step.unless || !succeeds(step.unless)) {
    try {
      execFileSync(step.argv[0]!, step.argv.slice(1), { stdio: 'inherit' });
    } catch (error) {
      if (!step.mayFail) throw new UsageError(`'${step.argv.join(' ')}' failed (${(error as Error).message.split('\n')[0]}); nothing after it ran`);
    }
  }
}

/**
 * `inferbox service install|uninstall`: registers the headless server with the system's service
 * manager (systemd, launchd, Windows Task Scheduler) from the definitions in server/service/.
 * `--dry-run` prints every file and command instead of running them (and needs no privileges).
 */
export function serviceCommand(args: string[], flags: Record<string, string | boolean | undefined>, say: (line: string) => void, platform: NodeJS.Platform = process.platform): void {
  const [action] = args;
  if ((action !== 'install' && action !== 'uninstall') || args.length > 1) throw new UsageError(USAGE);
  const port = z.coerce.number().int().min(1).max(65535).safeParse(flags.port ?? 8000);
  if (!port.success) throw new UsageError(`--port '${String(flags.port)}' is not a port; ${USAGE}`);
  const options: ServiceOptions = {
    nodePath: process.execPath,
    mainPath: resolve(process.argv[1]!),
    dataDir: typeof flags['data-dir'] === 'string' ? resolve(flags['data-dir']) : defaultServiceDataDir(platform),
    // macOS has no useradd: the daemon runs as the admin who installs it (sudo keeps their name in SUDO_USER).
    user: typeof flags.user === 'string' ? flags.user : platform === 'darwin' ? process.env.SUDO_USER ?? 'root' : SERVICE_NAME,
    port: port.data,
    gpu: platform === 'linux' && action === 'install' ? linuxGpuAccess() : NO_GPU_ACCESS,
  };
  const steps = action === 'install' ? serviceInstallPlan(platform, options) : serviceUninstallPlan(platform);
  if (flags['dry-run'] === true) {
    say(`Dry run: 'service ${action}' would do, in order:`);
    for (const step of steps) say(`- ${describe(step)}`);
    return;
  }
  if (platform !== 'win32' && process.getuid?.() !== 0) throw new UsageError(`'service ${action}' changes the system: run it as root (sudo), or add --dry-run to see what it does`);
  for (const step of steps) perform(step, say);
  say(action === 'install'
    ? `Installed: the server runs as '${options.user}' on port ${options.port} with its data in ${options.dataDir}. Its admin key is ${resolve(options.dataDir, 'admin.key')}.`
    : `Uninstalled. The data in ${options.dataDir} and the '${options.user}' account were kept.`);
}
