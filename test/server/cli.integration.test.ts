import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { GENTOO_FEATURES, makeDataDir } from '../helpers/testServer.js';
import { occupy, release, restPortBesideATakenOne } from '../helpers/occupiedPorts.js';
import { spawnServe, waitForServeBanner } from '../helpers/serveProcess.js';

const MAIN = new URL('../../server/main.ts', import.meta.url).pathname;
const cli = (args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, INFERBOX_LOG_LEVEL: 'silent' } });
const inferBody = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] });

test('the headless CLI: serve prints its URLs, keys are managed from the command line, SIGTERM stops it', async () => {
  const dataDir = await makeDataDir();
  const server = spawnServe(dataDir);
  try {
    const { url, output } = await waitForServeBanner(server);
    assert.ok(url, output);
    assert.match(output, /Inferbox is ready in \d+ ms/);
    const adminKey = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
    assert.match(output, new RegExp(`Admin key file: ${join(dataDir, 'admin.key').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.ok(!output.includes(adminKey), 'the key itself is not printed when stdout is not a terminal');

    const created = await cli(['keys', 'create', '--name', 'shop', '--scopes', 'infer:mlp', '--data-dir', dataDir]);
    const key = /^(ibx_\S+)$/m.exec(created.stdout)?.[1];
    const id = /Created key (\w+)/.exec(created.stdout)?.[1];
    assert.ok(key && id, created.stdout);
    const infer = () => fetch(`${url}/v2/models/mlp/infer`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: inferBody });
    assert.equal((await infer()).status, 200, 'a key made by the CLI works on the running server at once');
    const listed = await cli(['keys', 'list', '--data-dir', dataDir]);
    assert.match(listed.stdout, new RegExp(`${id}\\s+active\\s+shop`));
    await cli(['keys', 'revoke', id, '--data-dir', dataDir]);
    // The server notices another process's commit within 100 ms (ApiKeyService); allow scheduling slack.
    const revokedAt = Date.now();
    let status = (await infer()).status;
    while (status === 200 && Date.now() - revokedAt < 1000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = (await infer()).status;
    }
    assert.equal(status, 401, 'and its revocation applies on the running server within moments');

    const audit = await fetch(`${url}/api/audit?action=key.revoke`, { headers: { authorization: `Bearer ${adminKey}` } });
    const entries = ((await audit.json()) as { entries: { actor_name: string; action: string }[] }).entries;
    assert.ok(entries.some((e) => e.actor_name === 'cli' && e.action === 'key.revoke'));

    await assert.rejects(cli(['keys', 'create', '--name', 'x', '--scopes', 'root', '--data-dir', dataDir]), /unknown scope 'root'/);
    await assert.rejects(cli(['serve', '--port', 'eighty', '--data-dir', dataDir]), /--port/);
    await assert.rejects(cli(['serve', '--bogus']), /Unknown option '--bogus'/);

    server.kill('SIGTERM');
    const [code] = await once(server, 'exit');
    assert.equal(code, 0);
  } finally {
    server.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('serve with gRPC auto and its port taken: the banner says gRPC is unavailable and why, and REST serves', async () => {
  const dataDir = await makeDataDir();
  const { restPort, blocker } = await restPortBesideATakenOne();
  const server = spawnServe(dataDir, { args: ['--port', String(restPort)] });
  try {
    const { url, output } = await waitForServeBanner(server);
    assert.equal(url, `http://127.0.0.1:${restPort}`, output);
    assert.match(output, new RegExp(`WARNING: OIP v2 gRPC is unavailable, REST serves: cannot listen for gRPC on 127\\.0\\.0\\.1:${restPort + 1} \\(.*EADDRINUSE.*\\).*Port ${restPort + 1} is tried again every 30 s\\.`));
    assert.doesNotMatch(output, /gRPC at:/);
    assert.equal((await fetch(`${url}/v2/health/ready`)).status, 200);
    server.kill('SIGTERM');
    const [code] = await once(server, 'exit');
    assert.equal(code, 0, 'the pending retry does not hold up the stop');
  } finally {
    server.kill('SIGKILL');
    await release(blocker);
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('serve with --grpc-port naming a taken port exits with status 2 and says which port and what to do', async () => {
  const dataDir = await makeDataDir();
  const taken = await occupy(0);
  const port = (taken.address() as AddressInfo).port;
  try {
    await assert.rejects(cli(['serve', '--host', '127.0.0.1', '--port', '0', '--grpc-port', String(port), '--data-dir', dataDir]), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr ?? '', new RegExp(`^inferbox: cannot listen for gRPC on 127\\.0\\.0\\.1:${port} \\(.*EADDRINUSE.*\\); choose another port with --grpc-port or INFERBOX_GRPC_PORT`, 'm'));
      return true;
    });
  } finally {
    await release(taken);
    await rm(dataDir, { recursive: true, force: true });
  }
});
