import { spawn } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { GROUP_KILL, killProcessTree } from '../common/killProcessTree.js';
import { describeWebGpuAdapter } from '../hardware/describeWebGpuAdapter.js';
import { readVulkanLoaderLog, type VulkanLoaderLog } from '../hardware/readVulkanLoaderLog.js';
import type { WebGpuBackend, WebGpuStatus } from '../hardware/WebGpuStatus.js';

/**
 * The onnxruntime-node 1.30 builds whose bundled library holds the WebGPU provider (Dawn), and the
 * backend onnxruntime asks Dawn for there. Checked in the shipped binaries: linux-arm64's
 * libonnxruntime has no WebGPU provider and no Dawn, and there is no darwin-x64 build at all;
 * win32-arm64's onnxruntime.dll does carry Dawn and the provider, so it is probed too.
 */
const WEBGPU_BUILDS: Readonly<Record<string, WebGpuBackend>> = {
  'linux-x64': 'vulkan',
  'win32-x64': 'd3d12',
  'win32-arm64': 'd3d12',
  'darwin-arm64': 'metal',
};

/**
 * 10 s: the probe took 0.6-0.7 s here idle and 0.9-1.0 s with both cores busy (node start,
 * onnxruntime load, lavapipe, two sessions and a run each), and it must not be called unavailable
 * because the server's own start (workers, model loads, the hardware probe) has the cores at the
 * same time; a real driver's first initialization and shader compile can add a second or two. It
 * runs in the background, so a generous bound delays nothing; a probe past it is stuck (a hung
 * driver), not slow.
 */
export const WEBGPU_PROBE_TIMEOUT_MS = 10_000;
/** After its answer the child exits by itself; one that lingers (a driver's teardown) is killed after this. */
const EXIT_GRACE_MS = 2000;
/** Output kept from the child (the loader's log is ~10 KB): enough to read, bounded against a runaway writer. */
const OUTPUT_LIMIT = 256 * 1024;
/** Longest excerpt of the child's output kept in a reason. */
const EXCERPT_LIMIT = 300;

export interface WebGpuProbeOptions {
  /** The ONNX model to run on WebGPU and on the CPU (the bundled mlp, ~70 KB); its float32 inputs come from a samples.json beside it, else are made up. */
  modelPath: string;
  timeoutMs?: number;
  /** Stops the probe (the server closing): the child is killed. */
  signal?: AbortSignal;
  /** Added to the child's environment, e.g. `VK_DRIVER_FILES` to hide the Vulkan drivers. */
  env?: Record<string, string>;
  /**
   * XDG_RUNTIME_DIR for the child (Linux) when the environment has none (a service account, a
   * container): created 0700 if missing. The server passes a folder of its data dir.
   *
   * Why: the recipe WebGPU was first measured with (design notes, 2026-12) sets it, and
   * window-system code (libwayland's, for one) looks for it. Measured here (Mesa 25.0.7 lavapipe, loader 1.3.239) the probe
   * works without it and opens nothing under it, so it is a precaution for other drivers. In the
   * data dir rather than a fresh temp dir per probe: that one leaked whenever the server was killed
   * while a probe ran (seen in the tests), and the data dir is already private (0700) and the
   * server's own; a fixed name in the shared /tmp could be created first by another user.
   */
  runtimeDir?: string;
  /** Test seam: a command run instead of the probe child (one that hangs, crashes or says nothing). */
  command?: { file: string; args: string[] };
  /** The build to probe for (default: this process's); tests name one without WebGPU. */
  platform?: NodeJS.Platform;
  arch?: string;
}

/** What the child sends over its IPC channel. */
type ChildAnswer =
  | { stage: 'session'; error: string }
  /** Anything else that threw; `afterSession`: the WebGPU session existed (its adapter was obtained). */
  | { stage: 'failed'; error: string; afterSession: boolean }
  | { stage: 'ran'; maxAbsDiff: number; mismatch: string | null };

/**
 * Runs in the child (CommonJS, plain JS): a WebGPU session and a CPU session of the model, one run
 * each on the same input, compared. The model is read with fs, not by path: in the packaged app it
 * lives inside app.asar, which only Node's fs can read. Dawn prints its warnings on stdout, so the
 * answer goes over the IPC channel instead.
 */
const CHILD_SCRIPT = `
const [ortPath, modelPath] = process.argv.slice(1);
const send = (answer) => process.send(answer, () => process.exit(0));
const message = (error) => String((error && error.message) || error);
let gpu;
(async () => {
  const ort = require(ortPath);
  const model = require('node:fs').readFileSync(modelPath);
  try {
    gpu = await ort.InferenceSession.create(model, { executionProviders: ['webgpu'] });
  } catch (error) {
    return send({ stage: 'session', error: message(error) });
  }
  const cpu = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  const feeds = {};
  // The model's own first sample when one lies beside it (the bundled models' samples.json): real
  // inputs give unsaturated outputs, a sharper comparison than the filler values below.
  let sample = [];
  try {
    sample = JSON.parse(require('node:fs').readFileSync(require('node:path').join(require('node:path').dirname(modelPath), 'samples.json'), 'utf8')).samples[0].inputs;
  } catch {}
  for (const input of sample) {
    if (input.datatype === 'FP32') feeds[input.name] = new ort.Tensor('float32', Float32Array.from(input.data), input.shape);
  }
  for (const input of cpu.inputMetadata) {
    if (feeds[input.name]) continue;
    if (input.type !== 'float32') throw new Error('probe model input ' + input.name + ' is ' + input.type + ', not float32');
    const shape = input.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const size = shape.reduce((a, b) => a * b, 1);
    feeds[input.name] = new ort.Tensor('float32', Float32Array.from({ length: size }, (_, i) => ((i * 37) % 101) / 10), shape);
  }
  const got = await gpu.run(feeds);
  const want = await cpu.run(feeds);
  let maxAbsDiff = 0;
  let mismatch = null;
  for (const name of Object.keys(want)) {
    const a = got[name].data;
    const b = want[name].data;
    if (a.length !== b.length) { mismatch = name + ': ' + a.length + ' values, the CPU gave ' + b.length; break; }
    for (let i = 0; i < b.length; i++) {
      if (typeof b[i] === 'number') {
        const diff = Math.abs(a[i] - b[i]);
        maxAbsDiff = Math.max(maxAbsDiff, diff);
        if (!(diff <= 1e-4 + 1e-3 * Math.abs(b[i]))) mismatch = mismatch || name + '[' + i + ']: ' + a[i] + ', the CPU gave ' + b[i];
      } else if (a[i] !== b[i]) {
        mismatch = mismatch || name + '[' + i + ']: ' + a[i] + ', the CPU gave ' + b[i];
      }
    }
  }
  send({ stage: 'ran', maxAbsDiff, mismatch });
})().catch((error) => send({ stage: 'failed', error: message(error), afterSession: gpu !== undefined }));`;

interface ChildOutcome {
  answer: ChildAnswer | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  spawnError: Error | undefined;
  stdout: string;
  stderr: string;
}

/**
 * Whether onnxruntime-node's WebGPU provider works on this machine, and on what device: a child
 * process (not a worker thread: a driver that crashes takes only the child down, and one that
 * hangs is killed) creates a WebGPU session of a small model, runs it once and compares the
 * outputs with the CPU provider's. Never rejects: a missing driver, a crash, a hang or a wrong
 * answer become `reason`. Platforms whose build has no WebGPU provider answer without a child.
 */
export async function probeWebGpu(options: WebGpuProbeOptions): Promise<WebGpuStatus> {
  const { platform = process.platform, arch = process.arch, timeoutMs = WEBGPU_PROBE_TIMEOUT_MS } = options;
  const checkedAt = new Date().toISOString();
  const started = performance.now();
  const status = (fields: Pick<WebGpuStatus, 'available' | 'reason'> & Partial<WebGpuStatus>): WebGpuStatus => ({
    available: fields.available,
    reason: fields.reason,
    adapter: fields.adapter ?? null,
    maxAbsDiff: fields.maxAbsDiff ?? null,
    checkedAt,
    durationMs: Math.round(performance.now() - started),
  });
  const backend = WEBGPU_BUILDS[`${platform}-${arch}`];
  if (backend === undefined) return status({ available: false, reason: `this onnxruntime-node build (${platform}-${arch}) has no WebGPU provider` });

  const vulkan = backend === 'vulkan';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // The loader's log is the only place the Vulkan device and its driver are named (readVulkanLoaderLog).
    ...(vulkan ? { VK_LOADER_DEBUG: 'driver' } : {}),
    ...options.env,
    // The child loads onnxruntime itself: its telemetry stays off whatever came in (see disableOrtTelemetry).
    ORT_DISABLE_TELEMETRY: '1',
  };
  if (vulkan && !env.XDG_RUNTIME_DIR && options.runtimeDir && (await privateDir(options.runtimeDir))) env.XDG_RUNTIME_DIR = options.runtimeDir;
  let outcome: ChildOutcome;
  try {
    outcome = await runChild(options, env, timeoutMs);
  } catch (error) {
    // A bug of ours or a broken install (onnxruntime-node not resolvable): still a reason, never a rejection.
    return status({ available: false, reason: `the probe could not start: ${error instanceof Error ? error.message : String(error)}` });
  }
  const loader = vulkan ? readVulkanLoaderLog(outcome.stderr) : null;
  const answer = outcome.answer;
  if (answer === undefined) return status({ available: false, reason: reasonWithoutAnswer(outcome, timeoutMs, options.signal) });
  if (answer.stage === 'session') return status({ available: false, reason: `${cleanOrtMessage(answer.error)}${vulkan ? vulkanHint(loader!) : ''}` });
  const adapter = describeWebGpuAdapter(backend, arch, loader);
  if (answer.stage === 'failed') {
    return status({ available: false, reason: `the probe failed: ${cleanOrtMessage(answer.error)}`, adapter: answer.afterSession ? adapter : null });
  }
  if (answer.mismatch !== null) {
    return status({ available: false, reason: `WebGPU outputs differ from the CPU provider's (${answer.mismatch})`, adapter, maxAbsDiff: answer.maxAbsDiff });
  }
  return status({ available: true, reason: null, adapter, maxAbsDiff: answer.maxAbsDiff });
}

/** Makes `path` a 0700 folder; false when it cannot (the child then runs without XDG_RUNTIME_DIR). */
async function privateDir(path: string): Promise<boolean> {
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
    await chmod(path, 0o700);
    return true;
  } catch {
    return false;
  }
}

function runChild(options: WebGpuProbeOptions, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ChildOutcome> {
  const { signal } = options;
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  const file = options.command?.file ?? process.execPath;
  const args = options.command?.args ?? ['-e', CHILD_SCRIPT, ortPath, options.modelPath];
  return new Promise((resolve) => {
    const outcome: ChildOutcome = { answer: undefined, code: null, signal: null, timedOut: false, spawnError: undefined, stdout: '', stderr: '' };
    if (signal?.aborted) {
      resolve(outcome);
      return;
    }
    const child = spawn(file, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Its own process group on POSIX, so that killing it also kills anything it started.
      detached: GROUP_KILL,
      windowsHide: true,
    });
    const kill = () => killProcessTree(child);
    const timer = setTimeout(() => {
      outcome.timedOut = outcome.answer === undefined;
      kill();
    }, timeoutMs);
    let grace: NodeJS.Timeout | undefined;
    signal?.addEventListener('abort', kill, { once: true });
    const keep = (stream: 'stdout' | 'stderr') => (chunk: string) => {
      if (outcome[stream].length < OUTPUT_LIMIT) outcome[stream] += chunk.slice(0, OUTPUT_LIMIT - outcome[stream].length);
    };
    child.stdout!.setEncoding('utf8').on('data', keep('stdout'));
    child.stderr!.setEncoding('utf8').on('data', keep('stderr'));
    child.on('message', (answer: ChildAnswer) => {
      outcome.answer ??= answer;
      grace ??= setTimeout(kill, EXIT_GRACE_MS);
    });
    child.once('error', (error) => {
      // Only a failed spawn leaves no 'close' to wait for.
      if (child.pid === undefined) {
        outcome.spawnError = error;
        finish();
      }
    });
    // 'close', not 'exit': the loader's log must be read to its end (it names the device).
    child.once('close', (code, killedBy) => {
      outcome.code = code;
      outcome.signal = killedBy;
      finish();
    });
    let finished = false;
    function finish() {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(grace);
      signal?.removeEventListener('abort', kill);
      resolve(outcome);
    }
  });
}

function reasonWithoutAnswer(outcome: ChildOutcome, timeoutMs: number, signal: AbortSignal | undefined): string {
  if (outcome.spawnError) return `the probe could not start: ${outcome.spawnError.message}`;
  if (outcome.timedOut) return `the probe timed out after ${timeoutMs / 1000} s`;
  if (signal?.aborted) return 'the probe was stopped (the server is closing)';
  const excerpt = lastLines(outcome);
  const detail = excerpt ? `: ${excerpt}` : '';
  if (outcome.signal) return `the probe crashed with signal ${outcome.signal}${detail}`;
  return outcome.code === 0 ? `the probe ended without an answer${detail}` : `the probe exited with code ${outcome.code}${detail}`;
}

/** The end of what the child printed, without the Vulkan loader's log. */
function lastLines(outcome: ChildOutcome): string {
  const lines = `${outcome.stdout}\n${outcome.stderr}`.split('\n').filter((line) => line.trim() !== '' && !/DRIVER:|LAYER:/.test(line));
  return lines.join(' | ').slice(-EXCERPT_LIMIT).trim();
}

/**
 * onnxruntime's failed checks start with its source location and the condition:
 * "/onnxruntime_src/.../webgpu_context.cc:136 ... adapter_result.status == ... was false. Failed to
 * get a WebGPU adapter: No supported adapters". The admin needs the last part.
 */
export function cleanOrtMessage(message: string): string {
  const firstLine = message.trim().split('\n')[0] ?? '';
  const afterCheck = / was false\. (.+)$/.exec(firstLine)?.[1];
  return (afterCheck ?? firstLine.replace(/^\S+\.(?:cc|cpp|h):\d+ /, '')).trim();
}

/** What the Vulkan loader's log adds to "Failed to get a WebGPU adapter". */
function vulkanHint(loader: VulkanLoaderLog): string {
  if (!loader.loaderRan) return ' (no Vulkan loader answered: install libvulkan1 and a Vulkan driver)';
  if (loader.noDrivers || loader.devices.length === 0) return ' (the Vulkan loader found no driver: install mesa-vulkan-drivers or the GPU vendor\'s Vulkan driver)';
  return ` (Vulkan devices found: ${loader.devices.join(', ')}; none was usable by WebGPU: Dawn refuses some older drivers, e.g. Debian 12's Mesa 22.3)`;
}
