import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpsRequest } from '../../helpers/httpsRequest.js';
import { issueServerCertificate, makeTestCa, manualNetwork } from '../../helpers/testCertificates.js';
import { GENTOO_FEATURES, startTestServer } from '../../helpers/testServer.js';

interface Outcome {
  kind: 'keep-alive' | 'new connection';
  /** Which swap had answered when the request started: 0 before any, 1 after the upload, 2 after the regeneration. */
  phase: number;
  status: number | null;
  error: string | null;
  fingerprint: string | null;
}

const INFER_BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }] });

test('certificates swap under load: no request fails, open connections keep their session, new ones get the new certificate', { timeout: 120_000 }, async (t) => {
  const server = await startTestServer({ overrides: { host: '0.0.0.0', port: 0 }, network: manualNetwork({ hostname: 'inferbox-test', addresses: ['192.0.2.10'] }) });
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 3 });
  try {
    const port = server.running.port;
    const fingerprints: string[] = [server.running.tlsFingerprint!];
    let phase = 0;
    let running = true;
    const outcomes: Outcome[] = [];
    const client = async (kind: Outcome['kind']) => {
      while (running) {
        const started = phase;
        try {
          const answer = await httpsRequest(port, '/v2/models/mlp/infer', { method: 'POST', key: server.adminKey, body: INFER_BODY, contentType: 'application/json', ...(kind === 'keep-alive' ? { agent: keepAlive } : {}) });
          outcomes.push({ kind, phase: started, status: answer.status, error: answer.status === 200 ? null : answer.body, fingerprint: answer.peer.fingerprint256 });
        } catch (error) {
          outcomes.push({ kind, phase: started, status: null, error: (error as Error).message, fingerprint: null });
        }
      }
    };
    const count = (kind: Outcome['kind'], inPhase: number) => outcomes.filter((o) => o.kind === kind && o.phase === inPhase).length;
    /** Lets each kind of client finish a few requests in the current phase. */
    const loadFor = async (inPhase: number) => {
      while (count('keep-alive', inPhase) < 40 || count('new connection', inPhase) < 10) await sleep(20);
    };
    const clients = [...Array.from({ length: 3 }, () => client('keep-alive')), ...Array.from({ length: 2 }, () => client('new connection'))];

    await loadFor(0);
    const ca = await makeTestCa();
    const own = await issueServerCertificate(ca, { dns: ['inferbox-test'], ip: ['127.0.0.1'] });
    const upload = await httpsRequest(port, '/api/tls/certificate', { method: 'PUT', key: server.adminKey, contentType: 'application/x-pem-file', body: own.keyPem + own.certPem });
    assert.equal(upload.status, 200, upload.body);
    fingerprints.push((JSON.parse(upload.body) as { certificate: { fingerprint_sha256: string } }).certificate.fingerprint_sha256);
    phase = 1;
    await loadFor(1);
    const regenerate = await httpsRequest(port, '/api/tls/regenerate', { method: 'POST', key: server.adminKey });
    assert.equal(regenerate.status, 200, regenerate.body);
    fingerprints.push((JSON.parse(regenerate.body) as { certificate: { fingerprint_sha256: string } }).certificate.fingerprint_sha256);
    phase = 2;
    await loadFor(2);
    running = false;
    await Promise.all(clients);

    t.diagnostic(`requests per phase (keep-alive / new connection): ${[0, 1, 2].map((p) => `${count('keep-alive', p)}/${count('new connection', p)}`).join(', ')}`);
    const failed = outcomes.filter((o) => o.status !== 200);
    assert.deepEqual(failed, [], 'no request failed');
    assert.equal(new Set(fingerprints).size, 3);
    for (const o of outcomes.filter((x) => x.kind === 'new connection')) {
      assert.ok(fingerprints.indexOf(o.fingerprint!) >= o.phase, `a connection opened in phase ${o.phase} got an older certificate`);
    }
    const newInLast = outcomes.filter((o) => o.kind === 'new connection' && o.phase === 2);
    assert.ok(newInLast.every((o) => o.fingerprint === fingerprints[2]), 'after the regeneration, new connections see the regenerated certificate');
    // The keep-alive connections opened before both swaps still answer, on their original session.
    assert.ok(outcomes.some((o) => o.kind === 'keep-alive' && o.phase === 2 && o.fingerprint === fingerprints[0]), 'an open connection kept its session');
    assert.equal(server.running.tlsFingerprint, fingerprints[2]);
    // The server's answer and the certificate now on disk agree.
    assert.equal((await httpsRequest(port, '/v2/health/live')).peer.fingerprint256, fingerprints[2]);
  } finally {
    keepAlive.destroy();
    await server.cleanup();
  }
});
