import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeCertificate } from '../../../server/tls/describeCertificate.js';
import { httpsRequest } from '../../helpers/httpsRequest.js';
import { issueServerCertificate, makeTestCa, manualNetwork } from '../../helpers/testCertificates.js';
import { startTestServer, type TestServer } from '../../helpers/testServer.js';

interface TlsView {
  source: string;
  certificate: { fingerprint_sha256: string; public_key_sha256: string; ip_addresses: string[] };
  last_change: { kind: string; reason: string };
  uncovered_new_names: string[];
}

const tlsView = async (server: TestServer) => JSON.parse((await httpsRequest(server.running.port, '/api/tls', { key: server.adminKey })).body) as TlsView;

/** Asks until `done` holds (the renewal runs after the change event, off the caller's path). */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await read();
    if (done(value)) return value;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('a new LAN address reissues the generated certificate with the same key and serves it without a restart', async () => {
  const network = manualNetwork({ hostname: 'inferbox-test', addresses: ['192.0.2.10'] });
  const server = await startTestServer({ overrides: { host: '0.0.0.0', port: 0 }, network });
  try {
    const before = await tlsView(server);
    assert.ok(before.certificate.ip_addresses.includes('192.0.2.10'));
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const opened = await httpsRequest(server.running.port, '/v2/health/live', { agent: keepAlive });
    assert.equal(opened.peer.fingerprint256, before.certificate.fingerprint_sha256);

    network.set({ hostname: 'inferbox-test', addresses: ['192.0.2.10', '198.51.100.7'] }); // DHCP on a second interface
    const after = await eventually(() => tlsView(server), (v) => v.certificate.fingerprint_sha256 !== before.certificate.fingerprint_sha256, 'the renewal');
    assert.equal(after.source, 'generated');
    assert.equal(after.last_change.kind, 'renewed');
    assert.match(after.last_change.reason, /198\.51\.100\.7 was not covered; reissued with the same key/);
    assert.equal(after.certificate.public_key_sha256, before.certificate.public_key_sha256, 'same key: a pinned public key (SPKI SHA-256) keeps working');
    assert.ok(after.certificate.ip_addresses.includes('198.51.100.7') && after.certificate.ip_addresses.includes('192.0.2.10'), after.certificate.ip_addresses.join());

    // New connections get the new certificate; the open keep-alive connection keeps working.
    const fresh = await httpsRequest(server.running.port, '/v2/health/live');
    assert.equal(fresh.peer.fingerprint256, after.certificate.fingerprint_sha256);
    assert.equal(describeCertificate(fresh.peer.toString()).publicKeySha256, before.certificate.public_key_sha256);
    const reused = await httpsRequest(server.running.port, '/v2/health/live', { agent: keepAlive });
    assert.equal(reused.status, 200);
    keepAlive.destroy();

    const audit = JSON.parse((await httpsRequest(server.running.port, '/api/audit?action=tls.renew', { key: server.adminKey })).body) as { entries: { actor_name: string; details: { reason: string } }[] };
    assert.equal(audit.entries.length, 1);
    assert.equal(audit.entries[0]!.actor_name, 'system');

    // No reason to change the fingerprint: an address that goes away, an IPv6 address on an IPv4
    // bind (privacy extensions rotate them daily; nobody can reach 0.0.0.0 over IPv6). Changes are
    // handled in order, so the next real change shows that these two renewed nothing.
    network.set({ hostname: 'inferbox-test', addresses: ['198.51.100.7'] });
    network.set({ hostname: 'inferbox-test', addresses: ['198.51.100.7', '2001:db8::1234'] });
    network.set({ hostname: 'inferbox-test', addresses: ['198.51.100.7', '2001:db8::1234', '203.0.113.9'] });
    const third = await eventually(() => tlsView(server), (v) => v.certificate.ip_addresses.includes('203.0.113.9'), 'the second renewal');
    assert.match(third.last_change.reason, /: 203\.0\.113\.9 was not covered/);
    assert.deepEqual(third.certificate.ip_addresses, ['127.0.0.1', '::1', '198.51.100.7', '203.0.113.9'], 'the current IPv4 addresses, no IPv6 LAN address');
    const renewals = JSON.parse((await httpsRequest(server.running.port, '/api/audit?action=tls.renew', { key: server.adminKey })).body) as { entries: unknown[] };
    assert.equal(renewals.entries.length, 2, 'one renewal per new IPv4 address, none for the others');

    // At the next start the names are checked again (here: a new host name).
    await server.stop();
    const renamed = manualNetwork({ hostname: 'inferbox-renamed', addresses: ['198.51.100.7'] });
    const again = await startTestServer({ dataDir: server.dataDir, overrides: { host: '0.0.0.0', port: 0 }, network: renamed });
    try {
      const atStart = await tlsView(again);
      assert.match(atStart.last_change.reason, /inferbox-renamed was not covered/);
      assert.equal(atStart.certificate.public_key_sha256, before.certificate.public_key_sha256);
    } finally {
      await again.stop();
    }
  } finally {
    await server.cleanup();
  }
});

test('an uploaded certificate is never reissued: a new address only brings a warning', async () => {
  const network = manualNetwork({ hostname: 'inferbox-test', addresses: ['192.0.2.10'] });
  const server = await startTestServer({ overrides: { host: '0.0.0.0', port: 0 }, network });
  try {
    const ca = await makeTestCa();
    const own = await issueServerCertificate(ca, { dns: ['inferbox-test'], ip: ['192.0.2.10', '127.0.0.1'] });
    const upload = await httpsRequest(server.running.port, '/api/tls/certificate', { method: 'PUT', key: server.adminKey, contentType: 'application/x-pem-file', body: own.keyPem + own.certPem });
    assert.equal(upload.status, 200, upload.body);
    const uploaded = await tlsView(server);
    assert.deepEqual(uploaded.uncovered_new_names, []);

    network.set({ hostname: 'inferbox-test', addresses: ['192.0.2.10', '198.51.100.7'] });
    const warned = await eventually(() => tlsView(server), (v) => v.uncovered_new_names.length > 0, 'the warning');
    assert.deepEqual(warned.uncovered_new_names, ['198.51.100.7']);
    assert.equal(warned.source, 'uploaded');
    assert.equal(warned.certificate.fingerprint_sha256, uploaded.certificate.fingerprint_sha256, 'untouched');
    assert.equal((await httpsRequest(server.running.port, '/v2/health/live')).peer.fingerprint256, uploaded.certificate.fingerprint_sha256);
    const system = JSON.parse((await httpsRequest(server.running.port, '/api/system', { key: server.adminKey })).body) as { tls: { warnings: string[] } };
    assert.match(system.tls.warnings.join(' '), /uploaded certificate does not cover 198\.51\.100\.7/);
  } finally {
    await server.cleanup();
  }
});
