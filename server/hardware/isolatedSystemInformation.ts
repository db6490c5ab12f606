import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { GROUP_KILL, killProcessTree } from '../common/killProcessTree.js';
import { HardwareProbeError } from './HardwareProbeError.js';
import type { SystemInformation, SystemInformationCall } from './SystemInformation.js';

const SYSTEMINFORMATION_PATH = createRequire(import.meta.url).resolve('systeminformation');

/** Longest stderr excerpt kept in an error message. */
const STDERR_LIMIT = 300;

/** Runs in the child (CommonJS, plain JS): one call, its result as JSON on stdout, its error on stderr. */
const CHILD_SCRIPT = `
const [modulePath, call] = process.argv.slice(1);
require(modulePath)[call]().then(
  (value) => process.stdout.write(JSON.stringify(value)),
  (error) => { process.stderr.write(String((error && error.message) || error)); process.exitCode = 1; },
);`;

/**
 * systeminformation, with every call in its own short-lived node process.
 *
 * Why not call it in-process: systeminformation runs some commands synchronously (on Linux
 * graphics() runs nvidia-smi with execFileSync after lspci, dmidecode with execSync; osInfo()
 * runs `hostname -f`, which waits on DNS). A hung nvidia-smi would freeze the whole event loop,
 * so no timer could bound the probe. Worker threads do not help either: a worker stuck in a
 * synchronous exec cannot be terminated, and process exit waits for it. A child process can be
 * killed outright, and one process per call keeps a stuck call from delaying the others.
 *
 * Aborting `signal` SIGKILLs the children still running and the commands they started (the
 * probe aborts when it is done).
 */
export function isolatedSystemInformation(signal: AbortSignal): SystemInformation {
  // The results are systeminformation's own return values, serialized as JSON.
  const call = <T>(name: SystemInformationCall) => runInChild(name, signal) as Promise<T>;
  return {
    cpu: () => call('cpu'),
    cpuFlags: () => call('cpuFlags'),
    mem: () => call('mem'),
    graphics: () => call('graphics'),
    osInfo: () => call('osInfo'),
  };
}

function runInChild(call: SystemInformationCall, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new HardwareProbeError(call, 'failed', 'the probe was stopped'));
      return;
    }
    const child = spawn(process.execPath, ['-e', CHILD_SCRIPT, SYSTEMINFORMATION_PATH, call], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group on POSIX, so that killing it also kills the command it is stuck on.
      detached: GROUP_KILL,
      windowsHide: true,
    });
    const kill = () => killProcessTree(child);
    signal.addEventListener('abort', kill, { once: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error) => reject(new HardwareProbeError(call, 'failed', error.message, { cause: error })));
    child.once('close', (code, killedBy) => {
      signal.removeEventListener('abort', kill);
      if (code !== 0) {
        const detail = stderr.trim().slice(0, STDERR_LIMIT) || `child process ended with ${killedBy ?? `code ${code}`}`;
        reject(new HardwareProbeError(call, 'failed', detail));
        return;
      }
      try {
        resolve(JSON.parse(stdout));
      } catch (error) {
        reject(new HardwareProbeError(call, 'failed', 'child process printed no valid JSON', { cause: error }));
      }
    });
  });
}
