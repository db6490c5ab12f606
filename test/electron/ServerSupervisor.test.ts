import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fetchApplianceStats } from '../../electron/applianceStats.js';
import { serveArgs as desktopServeArgs } from '../../electron/desktopSettings.js';
import { ServerSupervisor, pickLocalUrl, type SupervisorState } from '../../electron/ServerSupervisor.js';
import { slowModel } from '../fixtures/onnxModels.js';
import { makeDataDir } from '../helpers/testServer.js';

/**
 * The supervisor against the real server: the real CLI (`server/main.ts serve`) in a child process,
 * as the desktop app runs it (there with Electron's binary as Node), killed with a real SIGKILL.
 */
const MAIN = new URL('../../server/main.ts', import.meta.url).pathname;

function recorder() {
  const states: (SupervisorState & { at: number })[] = [];
  const waiters: { predicate: (s: SupervisorState) => boolean; resolve: (s: SupervisorState) => void }[] = [];
  const onState = (state: SupervisorState) => {
    states.push({ ...state, at: Date.now() });
    for (const w of [...waiters]) if (w.predicate(state)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(state); }
  };
  /** The next state (from now on) that matches, or a timeout naming the states seen. */
  const next = <K extends SupervisorState['kind']>(kind: K, timeoutMs = 30_000): Promise<Extract<SupervisorState, { kind: K }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no '${kind}' state in ${timeoutMs} ms; states: ${JSON.stringify(states)}`)), timeoutMs);
      waiters.push({ predicate: (s) => s.kind === kind, resolve: (s) => { clearTimeout(timer); resolve(s as Extract<SupervisorState, { kind: K }>); } });
    });
  return { states, onState, next };
}

/** Spawns the CLI with plain Node (+ tsx), an IPC channel as the desktop app has, and remembers the children. */
function cliSpawner() {
  const children: ChildProcess[] = [];
  const spawnServer = (args: string[]) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...process.env, INFERBOX_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    children.push(child);
    return child;
  };
  const killAll = () => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); };
  return { children, spawnServer, killAll };
}

const serveArgs = (dataDir: string, port = '0') => ['--host', '127.0.0.1', '--port', port, '--data-dir', dataDir, '--instances', '1', '--threads', '1'];

test('ServerSupervisor: start → ready; kill -9 → crash reported, restarted with backoff on the same data dir; tray numbers; quit drains an in-flight request', async () => {
  const dataDir = await makeDataDir();
  const { children, spawnServer, killAll } = cliSpawner();
  const rec = recorder();
  const supervisor = new ServerSupervisor({ spawn: spawnServer, args: serveArgs(dataDir), onState: rec.onState, backoffInitialMs: 300, drainTimeoutMs: 20_000 });
  try {
    const firstReady = rec.next('ready');
    supervisor.start();
    const ready = await firstReady;
    assert.deepEqual(rec.states.map((s) => s.kind), ['starting', 'ready']);
    assert.match(ready.localUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(ready.tlsFingerprint, null, 'loopback bind: plain HTTP');
    assert.equal(ready.adminKeyPath, join(dataDir, 'admin.key'));
    assert.equal(ready.pid, children[0]!.pid);
    assert.equal((await fetch(`${ready.localUrl}/v2/health/ready`)).status, 200);
    const adminKey = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();

    // A native crash, as far as the OS is concerned: SIGKILL, no chance to clean up.
    const crashed = rec.next('crashed');
    const readyAgain = rec.next('ready');
    process.kill(children[0]!.pid!, 'SIGKILL');
    const crash = await crashed;
    assert.equal(crash.signal, 'SIGKILL');
    assert.equal(crash.failures, 1);
    assert.equal(crash.restartInMs, 300, 'the first restart waits the initial backoff');
    const second = await readyAgain;
    const crashAt = rec.states.find((s) => s.kind === 'crashed')!.at;
    const restartAt = rec.states.findLast((s) => s.kind === 'starting')!.at;
    assert.ok(restartAt - crashAt >= 290, `restarted after the backoff (${restartAt - crashAt} ms)`);
    assert.equal(children.length, 2);
    assert.notEqual(second.pid, ready.pid);
    assert.equal((await readFile(join(dataDir, 'admin.key'), 'utf8')).trim(), adminKey, 'same data dir: the same admin key');
    const system = await fetch(`${second.localUrl}/api/system`, { headers: { authorization: `Bearer ${adminKey}` } });
    assert.equal(system.status, 200, 'the admin key of the first run works on the restarted server');
    assert.equal(((await system.json()) as { data_dir: string }).data_dir, dataDir);

    // Quit while a slow inference runs: SIGTERM → close() drains it → exit 0.
    const auth = { authorization: `Bearer ${adminKey}` };
    const upload = await fetch(`${second.localUrl}/api/models/slow/versions?quantize=false`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: slowModel(300) });
    assert.equal(upload.status, 201, await upload.clone().text());
    const input = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 64], data: Array.from({ length: 64 }, (_, i) => i / 64) }] };
    const warm = await fetch(`${second.localUrl}/v2/models/slow/infer`, { method: 'POST', headers: auth, body: JSON.stringify(input) });
    assert.equal(warm.status, 200);
    const stats = await fetchApplianceStats({ localUrl: second.localUrl, adminKey, tlsFingerprint: null, certificatePem: null });
    assert.deepEqual([stats.modelCount, stats.totalRequests], [2, 1], 'the tray\'s numbers: mlp and slow, one inference');
    const startedAt = Date.now();
    const inFlight = fetch(`${second.localUrl}/v2/models/slow/infer`, { method: 'POST', headers: auth, body: JSON.stringify(input) });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const stopping = rec.next('stopping');
    const stopped = supervisor.stop();
    await stopping;
    const response = await inFlight;
    const answeredAfter = Date.now() - startedAt;
    assert.equal(response.status, 200, 'the request in flight at quit is answered');
    assert.equal(((await response.json()) as { outputs: { shape: number[] }[] }).outputs[0]!.shape.join(','), '1,1024');
    await stopped;
    const final = supervisor.state;
    assert.equal(final.kind, 'stopped');
    assert.deepEqual(final.kind === 'stopped' && [final.code, final.signal], [0, null], `a clean exit, not a kill (request took ${answeredAfter} ms)`);
    assert.equal(children[1]!.exitCode, 0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(children.length, 2, 'no restart after a requested stop');
  } finally {
    await supervisor.stop();
    killAll();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('ServerSupervisor: a server that cannot start (its fixed port is taken) is retried with growing delays, reported, and given up after the cap', async () => {
  const dataDir = await makeDataDir();
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  const { children, spawnServer, killAll } = cliSpawner();
  const rec = recorder();
  const supervisor = new ServerSupervisor({ spawn: spawnServer, args: serveArgs(dataDir, String(port)), onState: rec.onState, backoffInitialMs: 100, maxConsecutiveFailures: 3 });
  try {
    const failed = rec.next('failed', 60_000);
    supervisor.start();
    const final = await failed;
    assert.equal(final.failures, 3);
    assert.equal(final.code, 2, 'the CLI exits 2 on an expected error');
    assert.match(final.reason, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`), 'the user is told why');
    const crashes = rec.states.filter((s) => s.kind === 'crashed');
    assert.deepEqual(crashes.map((s) => s.kind === 'crashed' && s.restartInMs), [100, 200], 'delays double');
    assert.deepEqual(rec.states.map((s) => s.kind), ['starting', 'crashed', 'starting', 'crashed', 'starting', 'failed']);
    assert.equal(children.length, 3);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(children.length, 3, 'no more attempts after giving up');

    // The user frees the port and presses "Resume": a fresh start with a fresh failure count.
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    const ready = rec.next('ready');
    supervisor.start();
    assert.equal((await ready).localUrl, `http://127.0.0.1:${port}`);
  } finally {
    await supervisor.stop();
    killAll();
    blocker.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('ServerSupervisor on Windows asks for the drain over IPC (a signal would kill outright); a server whose parent vanished stops itself', async () => {
  const dataDir = await makeDataDir();
  const { children, spawnServer, killAll } = cliSpawner();
  const rec = recorder();
  const lines: string[] = [];
  const supervisor = new ServerSupervisor({ spawn: spawnServer, args: serveArgs(dataDir), onState: rec.onState, onLog: (line) => lines.push(line), platform: 'win32', backoffInitialMs: 200 });
  try {
    const ready = rec.next('ready');
    supervisor.start();
    await ready;
    await supervisor.stop();
    assert.ok(lines.includes('stop message received: stopping'), lines.join('\n'));
    assert.equal(children[0]!.exitCode, 0);

    // The parent crashing closes the IPC channel: the server drains and exits instead of lingering.
    const readyAgain = rec.next('ready');
    supervisor.start();
    await readyAgain;
    const exited = rec.next('crashed');
    children[1]!.disconnect();
    const gone = await exited;
    assert.equal(gone.code, 0);
    assert.ok(lines.includes('parent gone received: stopping'), lines.join('\n'));
  } finally {
    await supervisor.stop();
    killAll();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('ServerSupervisor.restartWith: the desktop switch from this computer only to the LAN drains the loopback server and starts an HTTPS one on the same data dir', async () => {
  const dataDir = await makeDataDir();
  const { children, spawnServer, killAll } = cliSpawner();
  const rec = recorder();
  const fixed = ['--port', '0', '--instances', '1', '--threads', '1'];
  const supervisor = new ServerSupervisor({ spawn: spawnServer, args: [...desktopServeArgs({ startAtLogin: false, serveLan: false }, dataDir), ...fixed], onState: rec.onState });
  try {
    const firstReady = rec.next('ready');
    supervisor.start();
    const local = await firstReady;
    assert.match(local.localUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(local.tlsFingerprint, null);
    const adminKey = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();

    const lanReady = rec.next('ready');
    await supervisor.restartWith([...desktopServeArgs({ startAtLogin: false, serveLan: true }, dataDir), ...fixed]);
    assert.equal(children[0]!.exitCode, 0, 'the loopback server drained and exited cleanly');
    const lan = await lanReady;
    assert.deepEqual(rec.states.map((s) => s.kind), ['starting', 'ready', 'stopping', 'stopped', 'starting', 'ready']);
    assert.match(lan.localUrl, /^https:\/\//, 'a LAN bind serves HTTPS (tls auto), loopback included');
    assert.match(lan.tlsFingerprint ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    // Same data dir: the same admin key signs in, over the appliance's own certificate.
    const certificatePem = await readFile(join(dataDir, 'tls.crt'), 'utf8');
    const stats = await fetchApplianceStats({ localUrl: lan.localUrl, adminKey, tlsFingerprint: lan.tlsFingerprint, certificatePem });
    assert.equal(stats.modelCount, 1);
  } finally {
    await supervisor.stop();
    killAll();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('pickLocalUrl: the loopback URL among those the server printed', () => {
  assert.equal(pickLocalUrl(['https://localhost:8000', 'https://box:8000', 'https://192.168.1.5:8000']), 'https://localhost:8000');
  assert.equal(pickLocalUrl(['http://127.0.0.1:8000']), 'http://127.0.0.1:8000');
  assert.equal(pickLocalUrl(['http://[::1]:8000']), 'http://[::1]:8000');
  assert.equal(pickLocalUrl(['https://192.168.1.5:8000']), null);
});

test('ServerSupervisor.backoffDelay doubles from the initial delay up to the cap', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => ServerSupervisor.backoffDelay(n, 1000, 30_000)), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
});
