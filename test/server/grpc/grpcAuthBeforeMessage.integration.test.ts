import assert from 'node:assert/strict';
import type { ClientHttp2Session } from 'node:http2';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { connectGrpc, grpcFrame, grpcMethod, rawGrpcCall } from '../../helpers/rawGrpcCall.js';
import { startTestServer, type TestServer } from '../../helpers/testServer.js';

// Issue 19 item 8: a call that needs a key is refused from its metadata, as REST refuses before
// reading the body; the message of a refused call is never read or decoded.

const FLOATS = 15_000_000; // 60 MB of FP32, under the default max_infer_body_bytes (64 MiB)
const infer = grpcMethod('ModelInfer');
let server: TestServer;
let session: ClientHttp2Session;
let big: Buffer;

before(async () => {
  server = await startTestServer();
  session = connectGrpc(server.running.grpcTargets[0]!);
  // Built before any measurement: the test process hosts the server, and this is the client's memory.
  big = grpcFrame(infer, { model_name: 'mlp', inputs: [{ name: 'features', datatype: 'FP32', shape: [FLOATS / 4, 4] }], raw_input_contents: [Buffer.alloc(FLOATS * 4, 1)] });
});
after(async () => {
  session.close();
  await server.cleanup();
});

/** The largest RSS growth of this process (which hosts the server) while `work` runs, in MB. */
async function rssGrowthMb(work: () => Promise<unknown>): Promise<number> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
  try {
    await work();
  } finally {
    clearInterval(sample);
  }
  return (Math.max(peak, process.memoryUsage().rss) - start) / 1e6;
}

test('a 60 MB ModelInfer without a key, or with a wrong one, is refused from its metadata: UNAUTHENTICATED before the message is sent, and never held in memory', async () => {
  assert.equal((await rawGrpcCall(session, grpcMethod('ServerLive').path, grpcFrame(grpcMethod('ServerLive'), {}))).code, status.OK, 'the connection is up before measuring');
  const cases: { metadata: Record<string, string>; details: string }[] = [
    { metadata: {}, details: 'an API key is required: send Authorization: Bearer <key>' },
    { metadata: { authorization: 'Bearer ibx_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, details: 'the API key is not valid' },
  ];
  for (const { metadata, details } of cases) {
    let answer: Awaited<ReturnType<typeof rawGrpcCall>> | undefined;
    const growth = await rssGrowthMb(async () => (answer = await rawGrpcCall(session, infer.path, big, { ...metadata, 'x-request-id': 'refused-early' })));
    assert.equal(answer!.code, status.UNAUTHENTICATED, `${answer!.details}`);
    assert.equal(answer!.details, details, 'the same message as before, and as REST');
    assert.equal(answer!.fields['x-request-id'], 'refused-early', 'the request id comes back with the refusal');
    assert.equal(answer!.sentAllBeforeStatus, false, 'the refusal came before the client had sent the message: the server did not wait for it');
    assert.equal(answer!.sentAll, false, 'and the server reset the stream after it (RST_STREAM NO_ERROR): the rest was never sent');
    // Generous: reading and decoding the message grew this process by about 90 MB; the refusal by under 1 MB.
    assert.ok(growth < 30, `the server process grew by ${growth.toFixed(1)} MB`);
  }
  const valid = await rawGrpcCall(session, infer.path, grpcFrame(infer, { model_name: 'mlp', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [Buffer.alloc(16)] }), { authorization: `Bearer ${server.adminKey}` });
  assert.equal(valid.code, status.OK, `the connection still serves keyed calls (${valid.details})`);
});
