import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListenError } from '../../../server/common/ListenError.js';
import { RetryingGrpcListener, type RetryingGrpcListenerOptions } from '../../../server/grpc/RetryingGrpcListener.js';
import type { GrpcListener } from '../../../server/grpc/startGrpcServer.js';

type Pair = { key: string; cert: string };

/** A bind that fails with a taken port while `taken` is true; records what each listener was given. */
function fakeBind() {
  const state = { taken: true, tries: 0, closed: 0, certificates: [] as Pair[], delayMs: 0 };
  const bind = async (port: number, tls: Pair | null): Promise<GrpcListener> => {
    state.tries++;
    await sleep(state.delayMs);
    if (state.taken) throw new ListenError(`cannot listen for gRPC on 127.0.0.1:${port} (listen EADDRINUSE)`);
    if (tls) state.certificates.push(tls);
    return { port, setCertificate: (pair) => state.certificates.push(pair), close: async () => { state.closed++; } };
  };
  return { state, bind };
}

const options = (bind: RetryingGrpcListenerOptions['bind'], extra: Partial<RetryingGrpcListenerOptions> = {}): RetryingGrpcListenerOptions => ({
  port: 8001, tls: null, required: false, bind, retryMs: 20, onRetry: () => undefined, ...extra,
});
/** Waits (polling; timers run late on a loaded machine) until `done` holds, at most 5 s. */
async function until(done: () => boolean): Promise<void> {
  for (const start = Date.now(); !done(); await sleep(5)) if (Date.now() - start > 5000) throw new Error('timed out');
}
const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

test('a taken optional port: unavailable with the reason, retried on an unref\'d timer until it binds, then up', async () => {
  const { state, bind } = fakeBind();
  const changes: string[] = [];
  const before = timers();
  const listener = await RetryingGrpcListener.start(options(bind, { onRetry: (status) => changes.push(status.state) }));
  assert.deepEqual(listener.status(), { state: 'unavailable', port: 8001, reason: 'cannot listen for gRPC on 127.0.0.1:8001 (listen EADDRINUSE)', retryIntervalSeconds: 0.02 });
  assert.equal(timers(), before, 'the retry timer does not keep the process alive');
  await until(() => state.tries >= 3);
  assert.ok(changes.length >= 1 && changes.every((change) => change === 'unavailable'));
  state.taken = false;
  await until(() => listener.status().state === 'up');
  assert.deepEqual(listener.status(), { state: 'up', port: 8001 });
  assert.equal(changes.at(-1), 'up');
  const tries = state.tries;
  await sleep(60);
  assert.equal(state.tries, tries, 'no more tries once up');
  await listener.close();
  assert.equal(state.closed, 1);
});

test('close stops the retries, and a listener a try in progress binds is closed too', async () => {
  const { state, bind } = fakeBind();
  const idle = await RetryingGrpcListener.start(options(bind));
  await idle.close();
  const tries = state.tries;
  await sleep(60);
  assert.equal(state.tries, tries, 'no try after close');

  const busy = await RetryingGrpcListener.start(options(bind));
  state.taken = false;
  state.delayMs = 50;
  const bindingTries = state.tries;
  await until(() => state.tries > bindingTries); // the first retry is binding now
  await busy.close();
  assert.equal(state.closed, 1, 'the listener that try bound was closed');
});

test('a certificate swapped in while gRPC waits for its port is the one it serves once bound', async () => {
  const { state, bind } = fakeBind();
  const listener = await RetryingGrpcListener.start(options(bind, { tls: { key: 'k1', cert: 'c1' } }));
  listener.setCertificate({ key: 'k2', cert: 'c2' });
  state.taken = false;
  await until(() => listener.status().state === 'up');
  assert.deepEqual(state.certificates.at(-1), { key: 'k2', cert: 'c2' });
  await listener.close();
});

test('a required port that is taken, or any error that is not a taken port, fails the start', async () => {
  const { bind } = fakeBind();
  await assert.rejects(RetryingGrpcListener.start(options(bind, { required: true })), ListenError);
  await assert.rejects(RetryingGrpcListener.start(options(async () => { throw new TypeError('a bug'); })), TypeError);
});
