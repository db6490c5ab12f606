import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { buildMlpStack } from '../../models/lib/mlpStack.js';
import { assertStraceUsable, commandsByPid, leavesTheBox, outboundAttempts, parseConnects, spawnTraced, tracedPid } from '../helpers/connectTrace.js';
import { waitForServeBanner } from '../helpers/serveProcess.js';
import { GENTOO_FEATURES, makeDataDir } from '../helpers/testServer.js';

/**
 * "Nothing leaves the box": the real CLI under strace through start-up (hardware probe included),
 * an upload, JSON and binary inferences, an int8 run, an async job and the console's page. Every
 * connect(2) of the server, its threads and every process it starts must stay on the machine.
 * This test found onnxruntime 1.30's telemetry (server/runtime/disableOrtTelemetry.ts).
 */

const MAIN = new URL('../../server/main.ts', import.meta.url).pathname;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STACK = { layers: 2, hidden: 64, inner: 256, tokens: 4, seed: 5 };
/**
 * How long the server runs under the trace at least. Background senders work on timers: without
 * the fix, onnxruntime's telemetry first resolved its collector about 12 s after start and again
 * every 5-7 s (measured here), after a workflow that takes about 5 s.
 */
const OBSERVE_MS = 20_000;

test('the harness sees outbound attempts from a child process, a worker thread and a UDP socket (so it can fail)', async () => {
  assertStraceUsable();
  const dir = await makeDataDir();
  const traceFile = join(dir, 'trace.txt');
  // TEST-NET-1 (192.0.2.0/24) and the IPv6 documentation prefix (2001:db8::/32) are never routed:
  // the attempts reach nothing, and each gives up after 200 ms.
  const script = `
    const { spawn } = require('node:child_process');
    const { Worker } = require('node:worker_threads');
    const dgram = require('node:dgram');
    const tcp = "const s = require('node:net').connect({ host: HOST, port: 9 }); s.on('error', () => {}); setTimeout(() => s.destroy(), 200);";
    spawn(process.execPath, ['-e', tcp.replace('HOST', "'192.0.2.1'")], { stdio: 'ignore' });
    new Worker(tcp.replace('HOST', "'2001:db8::1'"), { eval: true });
    const udp = dgram.createSocket('udp4');
    udp.on('error', () => {});
    udp.connect(53, '192.0.2.1', () => udp.close());
  `;
  const strace = spawnTraced(process.execPath, ['-e', script], traceFile, { stdio: 'ignore' });
  try {
    const [code] = (await once(strace, 'exit')) as [number];
    assert.equal(code, 0);
    const trace = await readFile(traceFile, 'utf8');
    const outbound = outboundAttempts(trace);
    const root = Number(/^(\d+)/.exec(trace)?.[1]); // its first line is the traced command's execve
    const tcp4 = parseConnects(trace).find((a) => a.address === '192.0.2.1' && a.port === 9);
    assert.ok(tcp4, `the child's TCP attempt was recorded:\n${trace}`);
    assert.notEqual(tcp4.pid, root, 'it came from another process: -f followed the spawn');
    assert.match(commandsByPid(trace).get(tcp4.pid) ?? '', /192\.0\.2\.1/, 'and the trace names the command that made it');
    assert.ok(outbound.some((o) => o.startsWith('IPv4 connect to 192.0.2.1:9 ')), outbound.join('\n'));
    assert.ok(outbound.some((o) => o.startsWith('IPv4 connect to 192.0.2.1:53 ')), `the UDP (DNS-like) attempt: ${outbound.join('\n')}`);
    assert.ok(outbound.some((o) => o.startsWith('IPv6 connect to [2001:db8::1]:9 ')), `the worker thread's attempt: ${outbound.join('\n')}`);
  } finally {
    strace.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('the classifier: loopback and local IPC stay, everything else (and any unreadable line) leaves', () => {
  // Lines as strace 6.1 prints them on this machine.
  const verdicts = (line: string) => parseConnects(line).map(leavesTheBox);
  assert.deepEqual(verdicts('7 connect(21, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("127.0.0.1")}, 16) = 0'), [null]);
  assert.deepEqual(verdicts('7 connect(21, {sa_family=AF_INET6, sin6_port=htons(8000), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0'), [null]);
  assert.deepEqual(verdicts('7 connect(58, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0'), ['IPv4 connect to 10.255.255.53:53']);
  assert.deepEqual(verdicts('7 connect(54, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16 <unfinished ...>'), ['IPv4 connect to 10.255.255.53:53']);
  assert.deepEqual(verdicts('7 connect(5, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::ffff:10.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = -1 EINPROGRESS'), ['IPv6 connect to [::ffff:10.0.0.1]:443']);
  assert.deepEqual(verdicts('7 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)'), [null], 'nothing was sent');
  assert.deepEqual(verdicts('7 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = 0'), ['name lookup through /var/run/nscd/socket']);
  assert.deepEqual(verdicts('7 connect(68, {sa_family=AF_UNIX, sun_path="/tmp/tsx-0/30349.pipe"}, 110) = -1 ENOENT (No such file or directory)'), [null]);
  assert.deepEqual(verdicts('7 connect(9, {sa_family=AF_UNSPEC, sa_data="\\0\\0\\0\\0"}, 16) = 0'), [null]);
  assert.deepEqual(verdicts('7 connect(9, {sa_family=AF_PACKET, sll_protocol=htons(ETH_P_ALL)}, 20) = 0'), ['connect of family AF_PACKET']);
  assert.deepEqual(verdicts('7 connect(9, 0x7ffd5e3c, 16) = -1 EFAULT (Bad address)'), ['connect of family (unreadable)']);
  assert.deepEqual(verdicts('7 <... connect resumed>) = 0'), [], 'a resumed line repeats no address');
  // Split by another thread's call: the result comes on the resumed line of the same pid.
  const split = (result: string) => `7 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110 <unfinished ...>\n8 connect(4, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = 0\n7 <... connect resumed>) = ${result}`;
  assert.deepEqual(verdicts(split('-1 ENOENT (No such file or directory)')), [null, 'name lookup through /var/run/nscd/socket']);
  assert.deepEqual(verdicts(split('0')), ['name lookup through /var/run/nscd/socket', 'name lookup through /var/run/nscd/socket']);
  assert.deepEqual(verdicts('7 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110 <unfinished ...>'), ['name lookup through /var/run/nscd/socket'], 'no result: counted');
});

test('nothing leaves the box: the real CLI through start-up, upload, inferences, int8, a job and the console', async () => {
  assertStraceUsable();
  const dataDir = await makeDataDir();
  const traceFile = join(dataDir, '..', `${dataDir.split('/').at(-1)}-connect-trace.txt`);
  const strace = spawnTraced(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir], traceFile, {
    env: { ...process.env, INFERBOX_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  let serverPid: number | undefined;
  try {
    const { url, output } = await waitForServeBanner(strace);
    const readyAt = Date.now();
    assert.ok(url, output);
    serverPid = tracedPid(strace);
    const key = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
    const call = (method: string, path: string, body?: RequestInit['body'], headers: Record<string, string> = {}) =>
      fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...headers }, body: body ?? null });
    const json = { 'content-type': 'application/json' };

    const upload = await call('POST', '/api/models/stack/versions', buildMlpStack(STACK), { 'content-type': 'application/octet-stream' });
    assert.equal(upload.status, 201, await upload.clone().text());

    const features = { name: 'features', datatype: 'FP32', shape: [1, 4] };
    const inferred = await call('POST', '/v2/models/mlp/infer', JSON.stringify({ inputs: [{ ...features, data: GENTOO_FEATURES }] }), json);
    assert.equal(inferred.status, 200);
    const header = Buffer.from(JSON.stringify({ inputs: [{ ...features, parameters: { binary_data_size: 16 } }], parameters: { binary_data_output: true } }));
    const binary = await call('POST', '/v2/models/mlp/infer', Buffer.concat([header, Buffer.from(new Float32Array(GENTOO_FEATURES).buffer)]), {
      'inference-header-content-length': String(header.length),
      'content-type': 'application/octet-stream',
    });
    assert.equal(binary.status, 200);
    assert.ok(binary.headers.get('inference-header-content-length'), 'answered in binary');
    const stackInput = { name: 'x', datatype: 'FP32', shape: [1, STACK.tokens, STACK.hidden], data: Array.from({ length: STACK.tokens * STACK.hidden }, (_, i) => Math.sin(i)) };
    assert.equal((await call('POST', '/v2/models/stack/infer', JSON.stringify({ inputs: [stackInput] }), json)).status, 200);

    // The upload queued an int8 candidate of the MatMul stack: wait for the comparison to finish.
    let quantization: { status: string } = { status: 'queued' };
    while (!['done', 'failed'].includes(quantization.status)) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      quantization = (await (await call('GET', '/api/models/stack/versions/1/quantization')).json()) as { status: string };
    }
    assert.equal(quantization.status, 'done', JSON.stringify(quantization));

    const submitted = await call('POST', '/api/jobs', JSON.stringify({ model: 'mlp', items: [{ inputs: [{ ...features, data: GENTOO_FEATURES }] }] }), json);
    assert.equal(submitted.status, 202, await submitted.clone().text());
    const { id } = (await submitted.json()) as { id: string };
    let job: { state: string } = { state: 'queued' };
    while (!['succeeded', 'failed', 'cancelled'].includes(job.state)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = (await (await call('GET', `/api/jobs/${id}`)).json()) as { state: string };
    }
    assert.equal(job.state, 'succeeded');

    // The console: its page and scripts from the server, signed in (the dashboard calls the admin API).
    const page = await browser.newPage();
    await page.goto(url!);
    await page.getByLabel('Admin key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // A fresh data dir: the first-run wizard (it reads /api/system and /api/models), then the dashboard.
    await page.getByTestId('wizard-provider').waitFor();
    await page.getByRole('button', { name: 'Skip setup' }).click();
    await page.getByText('Execution provider:').waitFor();

    await new Promise((resolve) => setTimeout(resolve, readyAt + OBSERVE_MS - Date.now()));
    process.kill(serverPid, 'SIGTERM');
    const [code] = (await once(strace, 'exit')) as [number];
    assert.equal(code, 0, 'the server stopped cleanly (strace exits with its code)');

    const trace = await readFile(traceFile, 'utf8');
    // The trace covered the process tree: the hardware probe's children (systeminformation, and the
    // commands it runs) are in it.
    assert.match(trace, /^\d+ +execve\(.*node_modules\/systeminformation\/.*"cpu"\]/m, 'the hardware probe ran under the trace');
    assert.deepEqual(outboundAttempts(trace), [], 'every connect stays on the machine');
  } finally {
    await browser.close();
    // A killed tracer only detaches: stop the server itself if the test failed before stopping it.
    if (strace.exitCode === null && serverPid !== undefined) process.kill(serverPid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
    await rm(traceFile, { force: true });
  }
});
