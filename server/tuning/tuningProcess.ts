/**
 * The tuning process (Model Analyzer's loop, on this box): started by TuningJobs at background
 * priority, it starts a tuning server (server/tuningServer.ts), uploads the version's file to it,
 * and for each candidate sets its serving settings and precision through the admin API and
 * measures a closed-loop latency/throughput curve over loopback HTTP. Each candidate's result is
 * sent as soon as it is measured (a cancelled or interrupted run keeps what it had), then `end`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type Koffi from 'koffi';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { messageOf } from '../common/errors.js';
import type { PlanOverrides } from '../hardware/planExecution.js';
import { chooseCandidate } from './chooseCandidate.js';
import { closedLoopCurve, closedLoopLevel, type LoadTarget } from './closedLoopLoad.js';
import { settingsOf, type CandidateResult, type TuningCandidate, type TuningMessage, type TuningRequest, type TuningServerReply, type TuningServerRequest } from './tuningProtocol.js';

/** Nice value of the tuning processes (and, inherited, of their threads): live requests come first. */
export const TUNING_NICE = 19;
/**
 * Unmeasured load after the upload, one request at a time and then many: the tuning server's code
 * is compiled before the first curve. With 2 s at concurrency 4 the first candidate measured (the
 * current serving) had a p95 at concurrency 1 of 1.38 ms against 0.67-0.79 ms for the others, on
 * the same settings family: V8 was still compiling the light-load path (bench/serving.ts's warm-up
 * notes measure the same).
 */
const WARM_UP = [{ concurrency: 1, seconds: 3 }, { concurrency: 16, seconds: 1 }];

interface TuningServer {
  child: ChildProcess;
  port: number;
  adminKey: string;
}

async function startTuningServer(dataDir: string, execution: PlanOverrides): Promise<TuningServer> {
  // server/tuningServer, with this module's extension (.ts under tsx, .js when built).
  const entry = new URL(`../tuningServer.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);
  const child = fork(fileURLToPath(entry), [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: process.execArgv });
  const reply = await new Promise<TuningServerReply>((resolve, reject) => {
    child.once('message', (message: TuningServerReply) => resolve(message));
    child.once('exit', (code) => reject(new Error(`the tuning server exited with code ${code} before it listened`)));
    child.send({ dataDir, execution } satisfies TuningServerRequest);
  });
  if (!reply.ok) throw new Error(`the tuning server did not start: ${reply.error}`);
  return { child, port: reply.port, adminKey: (await readFile(reply.adminKeyPath, 'utf8')).trim() };
}

async function stopTuningServer(server: TuningServer): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.send('close');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  server.child.kill('SIGKILL');
}

/** The tuning server's admin API (loopback, its own admin key): JSON, or a file's bytes; non-2xx answers throw with their message. */
async function admin(server: TuningServer, method: string, path: string, body?: unknown): Promise<unknown> {
  const bytes = body instanceof Uint8Array;
  const answer = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.adminKey}`, ...(body === undefined ? {} : { 'content-type': bytes ? 'application/octet-stream' : 'application/json' }) },
    ...(body === undefined ? {} : { body: bytes ? body : JSON.stringify(body) }),
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error((JSON.parse(text) as { error?: string }).error ?? `${method} ${path}: HTTP ${answer.status}`);
  return text ? JSON.parse(text) : null;
}

/** Polls until `done` says so or the deadline passes. */
async function until(done: () => Promise<boolean>, deadline: number, what: string): Promise<void> {
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`the tuning ran out of time waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function uploadVersion(server: TuningServer, request: TuningRequest): Promise<void> {
  const model = `/api/models/${encodeURIComponent(request.model)}`;
  // The int8 gate runs on the upload, as on the real server, only when an int8 candidate needs its file.
  await admin(server, 'POST', `${model}/versions?quantize=${request.candidates.some((c) => c.precision === 'int8')}`, await readFile(request.file));
  const version = `${model}/versions/1`;
  await until(async () => !['queued', 'running'].includes(String(((await admin(server, 'GET', `${version}/quantization`)) as { status?: string }).status)), request.deadline, 'the int8 candidate');
  await until(async () => ((await admin(server, 'GET', version)) as { state?: string }).state === 'ready', request.deadline, 'the version to load');
}

/**
 * Puts the candidate in place on the tuning server: its settings and precision, then the version
 * loads afresh, so every candidate starts from the same state whatever came before it. (Without
 * the reload, the first candidate kept the sessions loaded while the server was busy with the
 * upload's int8 gate: its p95 at concurrency 1 was 1.3 ms against 0.7 ms for the candidates after
 * it, which had reloaded on a quiet server.)
 */
async function applyCandidate(server: TuningServer, request: TuningRequest, candidate: TuningCandidate): Promise<void> {
  const model = `/api/models/${encodeURIComponent(request.model)}`;
  await admin(server, 'PUT', `${model}/settings`, settingsOf(candidate));
  await admin(server, 'PUT', `${model}/versions/1/precision`, { precision: candidate.precision });
  await admin(server, 'POST', `${model}/versions/1/unload`);
  await admin(server, 'POST', `${model}/versions/1/load`);
  await until(async () => ((await admin(server, 'GET', `${model}/versions/1`)) as { state?: string }).state === 'ready', request.deadline, 'the candidate to load');
}

async function tune(request: TuningRequest, send: (message: TuningMessage) => void): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'inferbox-tuning-'));
  let server: TuningServer | null = null;
  try {
    server = await startTuningServer(dataDir, request.execution);
    await uploadVersion(server, request);
    const target: LoadTarget = {
      port: server.port,
      path: `/v2/models/${encodeURIComponent(request.model)}/versions/1/infer`,
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
      bodies: request.bodies.map((body) => Buffer.from(body)),
    };
    for (const level of WARM_UP) await closedLoopLevel(target, level.concurrency, level.seconds);
    const measure = async (candidate: TuningCandidate, confirmation: boolean): Promise<CandidateResult> => {
      try {
        await applyCandidate(server!, request, candidate);
        const curve = await closedLoopCurve(target, { concurrencies: request.concurrencies, levelSeconds: request.levelSeconds, stopAboveP95Ms: request.stopAboveP95Ms, deadline: request.deadline });
        const failed = curve.length > 0 && curve.every((point) => point.rps === 0);
        return { id: candidate.id, curve, error: failed ? 'every request failed' : null, measured_at: new Date().toISOString(), ...(confirmation ? { confirmation } : {}) };
      } catch (error) {
        return { id: candidate.id, curve: [], error: messageOf(error), measured_at: new Date().toISOString(), ...(confirmation ? { confirmation } : {}) };
      }
    };
    const results: CandidateResult[] = [...request.measured];
    // The first pass leaves room for the two second measurements: a curve takes about as long as the last ones did.
    const curveMs: number[] = [];
    const expectedCurveMs = () => (curveMs.length > 0 ? curveMs.reduce((a, b) => a + b, 0) / curveMs.length : request.levelSeconds * 1000);
    for (const candidate of request.candidates) {
      if (results.some((r) => r.id === candidate.id && !r.confirmation)) continue; // measured before a restart
      const reserve = candidate.id === 'current' ? 0 : 2 * expectedCurveMs();
      if (Date.now() + expectedCurveMs() + reserve > request.deadline) break;
      const started = Date.now();
      const result = await measure(candidate, false);
      curveMs.push(Date.now() - started);
      results.push(result);
      send({ kind: 'result', result });
    }
    // The provisional choice is the best of single noisy measurements, so its figures run high (the
    // winner's curse): it and the current serving are measured once more, and the choice and its
    // prediction rest on those second measurements only.
    const provisional = chooseCandidate(results, request.objectiveP95Ms);
    if (provisional && provisional.id !== 'current') {
      for (const id of ['current', provisional.id]) {
        const candidate = request.candidates.find((c) => c.id === id);
        if (!candidate || results.some((r) => r.id === id && r.confirmation)) continue;
        if (Date.now() + request.levelSeconds * 1000 > request.deadline) break;
        const result = await measure(candidate, true);
        results.push(result);
        send({ kind: 'result', result });
      }
    }
  } finally {
    if (server) await stopTuningServer(server);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** SCHED_IDLE (Linux sched.h): the thread runs only when no other thread wants the core. */
const SCHED_IDLE = 5;

/**
 * Puts this process, and every thread and process it starts from here on, behind the server:
 * 1. nice 19 for the calling thread (inherited by what it starts);
 * 2. with autogroup scheduling (Linux's default), the session's group nice as well: this process
 *    leads a session of its own (runInChildProcess starts it detached), which is its own
 *    scheduling group, and nice then only ranks threads inside it (measured: live p95 4.3 ms →
 *    70.9 ms beside a run with nice alone, 3.7 → 16.2 ms with the group's nice too);
 * 3. on Linux, the SCHED_IDLE policy (through koffi, already a dependency): such threads run only
 *    on cores nothing else wants, and a waking server thread preempts them at once.
 * Each step is best effort: an unprivileged process may lower its priority this way, but another
 * platform has no such call.
 */
function yieldToTheServer(): void {
  setPriority(TUNING_NICE);
  if (process.platform !== 'linux') return;
  try {
    writeFileSync('/proc/self/autogroup', String(TUNING_NICE));
  } catch {
    // No autogroup: the threads' own priority counts.
  }
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
    const setScheduler = koffi.load('libc.so.6').func('int sched_setscheduler(int pid, int policy, const void *param)');
    setScheduler(0, SCHED_IDLE, new Int32Array([0])); // struct sched_param { int sched_priority = 0; }
  } catch {
    // Not glibc: nice and the group's nice are what there is.
  }
}

process.once('message', (request: TuningRequest) => {
  yieldToTheServer();
  const send = (message: TuningMessage) => process.send!(message);
  tune(request, send).then(
    () => process.send!({ kind: 'end', error: null } satisfies TuningMessage, () => process.exit(0)),
    (error: unknown) => process.send!({ kind: 'end', error: messageOf(error) } satisfies TuningMessage, () => process.exit(0)),
  );
});
