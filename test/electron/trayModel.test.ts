import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SupervisorState } from '../../electron/ServerSupervisor.js';
import { pickLanUrl, requestsPerMinute, stateNotice, totalRequests, trayMenu, type TrayItem, type TrayStatus } from '../../electron/trayModel.js';

const ready: SupervisorState = { kind: 'ready', pid: 1, urls: ['https://localhost:8000', 'https://192.168.1.5:8000'], localUrl: 'https://localhost:8000', tlsFingerprint: 'AA', adminKeyPath: '/x/admin.key' };
const base: TrayStatus = { server: ready, paused: false, modelCount: 3, requestsPerMinute: 41.6, lanUrl: 'https://192.168.1.5:8000', serveLan: true, startAtLogin: false };
const labels = (items: TrayItem[]) => items.map((i) => (i.type === 'separator' ? '---' : i.type === 'action' ? `${i.label}${i.enabled ? '' : ' (disabled)'}` : i.type === 'checkbox' ? `[${i.checked ? 'x' : ' '}] ${i.label}` : i.label));

test('trayModel: running with numbers and every action', () => {
  const menu = trayMenu(base);
  assert.equal(menu.tooltip, 'Inferbox: running');
  assert.deepEqual(labels(menu.items), [
    'Inferbox: running', '3 models', '42 requests/min', '---',
    'Open console', 'Copy LAN URL (https://192.168.1.5:8000)', 'Pause serving', '---',
    '[x] Serve the office network (LAN)', '[ ] Start at login', 'Quit Inferbox',
  ]);
  assert.ok(labels(trayMenu({ ...base, serveLan: false, lanUrl: null }).items).includes('[ ] Serve the office network (LAN)'));
  assert.deepEqual(labels(trayMenu({ ...base, modelCount: 1, requestsPerMinute: null, startAtLogin: true }).items).slice(1, 3), ['1 model', 'Requests/min: …']);
  assert.equal(labels(trayMenu({ ...base, startAtLogin: true }).items).at(-2), '[x] Start at login');
});

test('trayModel: loopback only, paused, crashed, failed', () => {
  assert.ok(labels(trayMenu({ ...base, lanUrl: null }).items).includes('Copy LAN URL (serving this computer only) (disabled)'));
  const paused = labels(trayMenu({ ...base, paused: true, server: { kind: 'stopped', code: 0, signal: null } }).items);
  assert.deepEqual(paused.slice(0, 5), ['Inferbox: paused', '---', 'Open console (disabled)', 'Copy LAN URL (https://192.168.1.5:8000) (disabled)', 'Resume serving']);
  const crashed = labels(trayMenu({ ...base, server: { kind: 'crashed', code: null, signal: 'SIGKILL', reason: 'killed by SIGKILL', failures: 1, restartInMs: 2000 } }).items);
  assert.equal(crashed[0], 'Inferbox: the server stopped unexpectedly, restarting in 2 s');
  assert.ok(crashed.includes('Pause serving'), 'a restart can be stopped');
  const failed = labels(trayMenu({ ...base, server: { kind: 'failed', code: 2, signal: null, reason: 'inferbox: cannot listen on 127.0.0.1:8000 (EADDRINUSE)', failures: 6 } }).items);
  assert.equal(failed[0], 'Inferbox: the server could not start (inferbox: cannot listen on 127.0.0.1:8000 (EADDRINUSE))');
  assert.ok(failed.includes('Try again'));
  assert.ok(labels(trayMenu({ ...base, server: { kind: 'stopping' } }).items).includes('Pause serving (disabled)'));
});

test('trayModel: LAN URL, request rate, notices', () => {
  assert.equal(pickLanUrl(['https://localhost:8000', 'https://box:8000', 'https://192.168.1.5:8000']), 'https://192.168.1.5:8000');
  assert.equal(pickLanUrl(['https://localhost:8000', 'https://box:8000']), 'https://box:8000');
  assert.equal(pickLanUrl(['http://127.0.0.1:8000']), null);
  assert.equal(totalRequests({ models: [{ success: 10, failure: 2 }, { success: 5, failure: 0 }] }), 17);
  assert.equal(requestsPerMinute({ at: 0, total: 100 }, { at: 5000, total: 110 }), 120);
  assert.equal(requestsPerMinute(null, { at: 5000, total: 110 }), null);
  assert.equal(requestsPerMinute({ at: 0, total: 100 }, { at: 5000, total: 3 }), null, 'counters reset by a restart');
  const crashed: SupervisorState = { kind: 'crashed', code: null, signal: 'SIGSEGV', reason: '', failures: 1, restartInMs: 1000 };
  assert.equal(stateNotice(ready, crashed), 'The Inferbox server stopped unexpectedly (SIGSEGV). Restarting in 1 s.');
  assert.equal(stateNotice({ kind: 'starting', attempt: 2 }, ready), 'The Inferbox server is running again.');
  assert.equal(stateNotice({ kind: 'starting', attempt: 1 }, ready), null, 'a normal first start says nothing');
  assert.match(stateNotice(crashed, { kind: 'failed', code: 2, signal: null, reason: 'port in use', failures: 6 })!, /after 6 attempts: port in use/);
});
