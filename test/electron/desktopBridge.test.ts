import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as bridge from '../../electron/desktopBridge.js';

/**
 * The sandboxed preload cannot import desktopBridge.ts at run time (CommonJS, electron only), so it
 * spells the channel names out: they must match the ones the main process listens on, and every
 * method of the DesktopBridge type must be exposed, or a call would hang or be undefined.
 */
const preload = readFileSync(new URL('../../electron/preload.cts', import.meta.url), 'utf8');
const consoleTypes = readFileSync(new URL('../../renderer/src/desktop.d.ts', import.meta.url), 'utf8');

test('desktopBridge: the preload uses exactly the main process\'s channels and exposes every method the console declares', () => {
  const channels = Object.entries(bridge).filter(([name]) => name.endsWith('_CHANNEL')).map(([, value]) => value as string);
  assert.equal(channels.length, 3);
  const used = [...preload.matchAll(/ipcRenderer\.invoke\('([^']+)'/g)].map((m) => m[1]);
  assert.deepEqual(used.sort(), [...channels].sort());
  const declared = [...consoleTypes.matchAll(/^\s+(\w+)\(.*\): Promise/gm)].map((m) => m[1]).sort();
  const exposed = [...preload.matchAll(/^\s+(\w+): async/gm)].map((m) => m[1]).sort();
  assert.deepEqual(declared, ['getAdminKey', 'getServeLan', 'setServeLan']);
  assert.deepEqual(exposed, declared);
});
