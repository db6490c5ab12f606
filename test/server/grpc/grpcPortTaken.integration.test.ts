import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListenError } from '../../../server/common/ListenError.js';
import { inferenceClient } from '../../helpers/grpcClient.js';
import { occupy, release, restPortBesideATakenOne } from '../../helpers/occupiedPorts.js';
import { parsePrometheusText, valueOf } from '../../helpers/prometheusText.js';
import { GENTOO_FEATURES, makeDataDir, startTestServer, type TestServer } from '../../helpers/testServer.js';

type SystemGrpc = { grpc: { state: string; port: number; reason?: string; retry_interval_seconds?: number; targets: string[] }; grpc_targets: string[] };

const systemGrpc = async (server: TestServer) => (await (await server.request('GET', '/api/system')).json()) as SystemGrpc;
const grpcUpGauge = async (server: TestServer) => valueOf(parsePrometheusText(await (await server.request('GET', '/metrics')).text()), 'inferbox_grpc_up');

test('grpc_port auto with its port taken: REST serves, gRPC is reported unavailable with the reason, and comes up on a retry once the port is free', async () => {
  const { restPort, blocker } = await restPortBesideATakenOne();
  let blocked = true;
  let server: TestServer | undefined;
  try {
    // Retries every 200 ms instead of 30 s, so the test sees several fail before the port frees.
    server = await startTestServer({ overrides: { host: '127.0.0.1', port: restPort }, grpcRetryMs: 200 });
    assert.equal(server.running.port, restPort);
    assert.equal((await server.request('GET', '/v2/health/ready', { key: null })).status, 200, 'REST serves');
    const infer = await server.request('POST', '/v2/models/mlp/infer', { json: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] } });
    assert.equal(infer.status, 200, 'REST inference works');

    await sleep(500); // two retries or so fail meanwhile
    const down = await systemGrpc(server);
    assert.equal(down.grpc.state, 'unavailable');
    assert.equal(down.grpc.port, restPort + 1);
    assert.match(down.grpc.reason ?? '', new RegExp(`127\\.0\\.0\\.1:${restPort + 1}.*EADDRINUSE`), 'the reason names the port and what the system said');
    assert.equal(down.grpc.retry_interval_seconds, 0.2);
    assert.deepEqual(down.grpc.targets, []);
    assert.deepEqual(down.grpc_targets, []);
    assert.equal(server.running.grpcPort, null);
    assert.equal(await grpcUpGauge(server), 0);

    await release(blocker);
    blocked = false;
    let up = down;
    for (const start = Date.now(); up.grpc.state !== 'up' && Date.now() - start < 15_000;) {
      await sleep(100);
      up = await systemGrpc(server);
    }
    assert.equal(up.grpc.state, 'up', 'a retry binds the port once it is free');
    assert.equal(up.grpc.port, restPort + 1, 'the port auto asked for, not another one');
    assert.equal(up.grpc.reason, undefined);
    assert.deepEqual(up.grpc.targets, [`127.0.0.1:${restPort + 1}`]);
    assert.deepEqual(server.running.grpcTargets, [`127.0.0.1:${restPort + 1}`]);
    assert.equal(await grpcUpGauge(server), 1);

    const client = inferenceClient(server.running.grpcTargets[0]!, server.adminKey);
    try {
      const raw = Buffer.alloc(16);
      GENTOO_FEATURES.forEach((v, i) => raw.writeFloatLE(v, i * 4));
      const answer = await client.call<{ model_name: string; outputs: { name: string }[] }>('ModelInfer', { model_name: 'mlp', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [raw] });
      assert.equal(answer.error, null);
      assert.equal(answer.response?.model_name, 'mlp');
      assert.ok((answer.response?.outputs.length ?? 0) > 0, 'a real gRPC inference answers');
    } finally {
      client.close();
    }
  } finally {
    if (blocked) await release(blocker);
    await server?.cleanup();
  }
});

test('a gRPC port named for this run (--grpc-port / INFERBOX_GRPC_PORT) that is taken still fails the start, clearly, and leaves nothing running', async () => {
  const { restPort, blocker } = await restPortBesideATakenOne();
  const dataDir = await makeDataDir();
  try {
    await assert.rejects(
      startTestServer({ dataDir, overrides: { host: '127.0.0.1', port: restPort, grpc_port: restPort + 1 } }),
      (e: unknown) => e instanceof ListenError && new RegExp(`cannot listen for gRPC on 127\\.0\\.0\\.1:${restPort + 1} \\(.*EADDRINUSE.*\\); choose another port with --grpc-port or INFERBOX_GRPC_PORT`).test(e.message),
    );
    await release(await occupy(restPort)); // the REST listener was closed again
  } finally {
    await release(blocker);
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a taken gRPC port with the retry pending does not keep the server from closing', async () => {
  const { restPort, blocker } = await restPortBesideATakenOne();
  const dataDir = await makeDataDir();
  try {
    const server = await startTestServer({ dataDir, overrides: { host: '127.0.0.1', port: restPort } });
    assert.equal(server.running.grpcStatus().state, 'unavailable');
    assert.equal((server.running.grpcStatus() as { retryIntervalSeconds: number }).retryIntervalSeconds, 30, 'the default: every 30 s');
    await server.cleanup();
    await release(await occupy(restPort)); // closed, and no retry binds anything afterwards
  } finally {
    await release(blocker);
    await rm(dataDir, { recursive: true, force: true });
  }
});
