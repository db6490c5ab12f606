import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { findRunningServer } from '../../electron/findRunningServer.js';
import { ServerSupervisor, type SupervisorState } from '../../electron/ServerSupervisor.js';
import { statusLabel } from '../../electron/trayModel.js';
import { spawnServe, waitForServeBanner } from '../helpers/serveProcess.js';
import { makeDataDir } from '../helpers/testServer.js';


test('the desktop app attaches to a server already serving its data dir (the service) instead of starting a second one', async () => {
  const dataDir = await makeDataDir();
  // The "service": the real headless CLI, started outside the desktop app.
  const service = spawnServe(dataDir);
  try {
    const { url } = await waitForServeBanner(service);
    const found = await findRunningServer(dataDir);
    assert.equal(found?.pid, service.pid);
    assert.equal(found?.localUrl, url);
    assert.equal(found?.adminKeyPath, join(dataDir, 'admin.key'));

    const states: SupervisorState[] = [];
    let spawned = 0;
    const supervisor = new ServerSupervisor({
      spawn: () => { spawned += 1; throw new Error('a second server must not be started'); },
      args: ['--data-dir', dataDir],
      findRunning: () => findRunningServer(dataDir),
      onState: (state) => states.push(state),
    });
    supervisor.start();
    for (let i = 0; i < 100 && states.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    const [state] = states;
    assert.equal(state?.kind, 'ready');
    assert.ok(state?.kind === 'ready' && state.attached && state.pid === service.pid && state.localUrl === url);
    assert.equal(statusLabel({ server: state, paused: false }), 'Inferbox: attached to the service');
    assert.equal(spawned, 0);

    // Quitting the app detaches; the service keeps serving.
    await supervisor.stop();
    assert.equal(supervisor.state.kind, 'stopped');
    assert.equal((await fetch(`${url}/v2/health/ready`)).status, 200);

    const exit = once(service, 'exit');
    service.kill('SIGTERM');
    await exit;
    assert.equal(await findRunningServer(dataDir), null, 'a stopped server is not found (server.json removed)');
    // After a crash the file stays behind: a dead pid is no server to attach to.
    await writeFile(join(dataDir, 'server.json'), JSON.stringify({ pid: service.pid, version: '0', started_at: '', urls: [url], tls_fingerprint: null }));
    assert.equal(await findRunningServer(dataDir), null);
  } finally {
    if (service.exitCode === null) service.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});
