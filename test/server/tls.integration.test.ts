import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { request } from 'node:https';
import { connect, type PeerCertificate } from 'node:tls';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSelfSignedCertificate } from '../../server/tls/createSelfSignedCertificate.js';
import { startTestServer } from '../helpers/testServer.js';

/** The certificate a server presents, read without trusting it (the first step of pinning). */
function peerCertificate(port: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** GET over HTTPS trusting exactly one certificate (PEM) as the anchor; host names are checked as usual. */
function trustingGet(port: number, path: string, trustedPem: string, key: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, ca: trustedPem, headers: { authorization: `Bearer ${key}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a LAN bind serves HTTPS with a generated certificate, pinned by its fingerprint', async () => {
  const server = await startTestServer({ overrides: { host: '0.0.0.0', port: 0 } });
  try {
    const { running } = server;
    assert.ok(running.urls.length >= 1 && running.urls.every((u) => u.startsWith('https://')), running.urls.join(' '));
    assert.match(running.tlsFingerprint ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    // Pin: the certificate on the wire is the one whose fingerprint the server printed.
    const peer = await peerCertificate(running.port);
    assert.equal(peer.fingerprint256, running.tlsFingerprint);
    const pinned = new X509Certificate(peer.raw);
    assert.match(pinned.subjectAltName ?? '', /DNS:localhost/);
    // Then trust exactly that certificate: the connection verifies, names (IP 127.0.0.1) included.
    const system = await trustingGet(running.port, '/api/system', pinned.toString(), server.adminKey);
    assert.equal(system.status, 200);
    const info = JSON.parse(system.body) as { tls: { enabled: boolean; fingerprint_sha256: string; plain_http_on_lan: boolean; warnings: string[] } };
    assert.deepEqual(info.tls, { enabled: true, fingerprint_sha256: running.tlsFingerprint, plain_http_on_lan: false, warnings: [] });
    // Any other certificate as the anchor fails verification.
    const other = await createSelfSignedCertificate({ hostname: 'elsewhere', addresses: [] });
    await assert.rejects(trustingGet(running.port, '/v2/health/live', other.cert, server.adminKey), /self[- ]signed|unable to verify|certificate/i);
    assert.equal((await stat(join(server.dataDir, 'tls.json'))).mode & 0o777, 0o600, 'the private key (in tls.json) is owner-only');
    assert.equal(new X509Certificate(await readFile(join(server.dataDir, 'tls.crt'), 'utf8')).fingerprint256, running.tlsFingerprint, 'tls.crt is the served certificate, for curl --cacert');
    assert.equal((await stat(running.adminKeyPath)).mode & 0o777, 0o600, 'admin.key is owner-only');
  } finally {
    await server.stop();
  }
  // The same certificate on the next start, so pinned clients keep working.
  const again = await startTestServer({ dataDir: server.dataDir, overrides: { host: '0.0.0.0', port: 0 } });
  try {
    assert.equal(again.running.tlsFingerprint, server.running.tlsFingerprint);
  } finally {
    await again.cleanup();
  }
});

test('--tls off serves plain HTTP even on a LAN bind, with a warning; loopback defaults to HTTP without one', async () => {
  const off = await startTestServer({ overrides: { host: '0.0.0.0', port: 0, tls: 'off' } });
  try {
    assert.ok(off.running.urls.every((u) => u.startsWith('http://')));
    assert.equal(off.running.tlsFingerprint, null);
    const response = await fetch(`http://127.0.0.1:${off.running.port}/v2/health/live`);
    assert.equal(response.status, 200);
    const system = (await (await fetch(`http://127.0.0.1:${off.running.port}/api/system`, { headers: { authorization: `Bearer ${off.adminKey}` } })).json()) as { tls: { enabled: boolean; plain_http_on_lan: boolean; warnings: string[] } };
    assert.equal(system.tls.enabled, false);
    assert.equal(system.tls.plain_http_on_lan, true);
    assert.match(system.tls.warnings.join(' '), /listens on 0\.0\.0\.0 without TLS/);
    assert.deepEqual(off.running.tlsWarnings(), system.tls.warnings, 'the CLI banner prints the same warnings');
  } finally {
    await off.cleanup();
  }
  const loopback = await startTestServer();
  try {
    assert.ok(loopback.baseUrl.startsWith('http://127.0.0.1:'));
    const system = (await (await loopback.request('GET', '/api/system')).json()) as { tls: { plain_http_on_lan: boolean; warnings: string[] } };
    assert.equal(system.tls.plain_http_on_lan, false, 'plain HTTP on loopback never crosses the network');
    assert.deepEqual(system.tls.warnings, []);
  } finally {
    await loopback.cleanup();
  }
});
