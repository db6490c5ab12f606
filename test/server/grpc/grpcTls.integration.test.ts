import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { connect } from 'node:tls';
import { credentials, status } from '@grpc/grpc-js';
import { httpsRequest } from '../../helpers/httpsRequest.js';
import { inferenceClient } from '../../helpers/grpcClient.js';
import { GENTOO_FEATURES, startTestServer } from '../../helpers/testServer.js';

/** The certificate the gRPC port presents to a new connection (read unverified, as a pinning client's first step). */
function presentedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ALPNProtocols: ['h2'], rejectUnauthorized: false }, () => {
      resolve(new X509Certificate(socket.getPeerCertificate(true).raw).fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

const trusting = (certPem: string) => credentials.createSsl(Buffer.from(certPem));
const gentoo = () => {
  const raw = Buffer.alloc(16);
  GENTOO_FEATURES.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return { model_name: 'mlp', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [raw] };
};

test('gRPC serves TLS with the REST certificate, and a regenerated certificate from the next handshake on', { timeout: 60_000 }, async () => {
  const server = await startTestServer({ overrides: { host: '127.0.0.1', port: 0, tls: 'on' } });
  const clients: ReturnType<typeof inferenceClient>[] = [];
  const client = (certPem: string) => {
    const made = inferenceClient(`localhost:${server.running.grpcPort}`, server.adminKey, trusting(certPem));
    clients.push(made);
    return made;
  };
  try {
    const grpcPort = server.running.grpcPort!;
    assert.deepEqual(server.running.grpcTargets, [`127.0.0.1:${grpcPort}`]);
    const firstPem = (await httpsRequest(server.running.port, '/api/tls/certificate', { key: server.adminKey })).body;
    const firstFingerprint = server.running.tlsFingerprint;
    assert.equal(await presentedFingerprint(grpcPort), firstFingerprint, 'the same certificate as REST');

    const before = client(firstPem);
    assert.equal((await before.call('ModelInfer', gentoo())).error, null, 'a client trusting the certificate infers over TLS');
    const plaintext = inferenceClient(`127.0.0.1:${grpcPort}`, server.adminKey);
    clients.push(plaintext);
    assert.equal((await plaintext.call('ServerLive', {}, { key: null })).error?.code, status.UNAVAILABLE, 'no plaintext gRPC beside TLS');

    const regenerated = await httpsRequest(server.running.port, '/api/tls/regenerate', { method: 'POST', key: server.adminKey });
    assert.equal(regenerated.status, 200, regenerated.body);
    const newFingerprint = (JSON.parse(regenerated.body) as { certificate: { fingerprint_sha256: string } }).certificate.fingerprint_sha256;
    assert.notEqual(newFingerprint, firstFingerprint);
    assert.equal(await presentedFingerprint(grpcPort), newFingerprint, 'new connections get the new certificate without a restart');
    assert.equal((await before.call('ModelInfer', gentoo())).error, null, 'an open channel keeps its session');

    const newPem = (await httpsRequest(server.running.port, '/api/tls/certificate', { key: server.adminKey })).body;
    assert.equal((await client(newPem).call('ModelInfer', gentoo())).error, null, 'a client trusting the new certificate connects');
    assert.equal((await client(firstPem).call('ServerLive', {}, { key: null })).error?.code, status.UNAVAILABLE, 'one trusting only the old certificate is refused');
  } finally {
    for (const made of clients) made.close();
    await server.cleanup();
  }
});
