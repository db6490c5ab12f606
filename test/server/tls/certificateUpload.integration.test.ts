import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { httpsRequest } from '../../helpers/httpsRequest.js';
import { issueServerCertificate, makeTestCa, manualNetwork, type TestCertificate } from '../../helpers/testCertificates.js';
import { startTestServer, type TestServer } from '../../helpers/testServer.js';

interface TlsView {
  https: boolean;
  source: 'generated' | 'uploaded';
  certificate: { fingerprint_sha256: string; public_key_sha256: string; dns_names: string[]; ip_addresses: string[]; chain_length: number; valid_to: string };
  last_change: { kind: string; at: string; reason: string };
  applied?: boolean;
}

const DAY_MS = 24 * 3_600_000;
const NETWORK = { hostname: 'inferbox-test', addresses: ['192.0.2.10'] };
const PEM = 'application/x-pem-file';

/**
 * An admin's own certificate over the real HTTPS listener: each kind of bad upload is a 400 with
 * its own code and message and changes nothing; a good one is served from the next handshake,
 * survives a restart, and a regeneration makes a new key.
 */
describe('certificate upload, download and regeneration', () => {
  let server: TestServer;
  let ca: TestCertificate;
  let good: TestCertificate;
  const port = () => server.running.port;
  const put = (body: string, contentType = PEM, key = server.adminKey) => httpsRequest(port(), '/api/tls/certificate', { method: 'PUT', key, body, contentType });
  const tlsView = async () => JSON.parse((await httpsRequest(port(), '/api/tls', { key: server.adminKey })).body) as TlsView;

  before(async () => {
    server = await startTestServer({ overrides: { host: '0.0.0.0', port: 0 }, network: manualNetwork(NETWORK) });
    ca = await makeTestCa();
    // Named by the machine's full DNS name (its host name is the first label) and the loopback address the test connects to.
    good = await issueServerCertificate(ca, { dns: ['inferbox-test.corp.example'], ip: ['127.0.0.1'] });
  });
  after(async () => server?.cleanup());

  test('each bad upload is refused with its own error and the serving certificate stays', async () => {
    const generated = await tlsView();
    assert.equal(generated.source, 'generated');
    const otherKey = await issueServerCertificate(ca, { dns: ['inferbox-test'] });
    const expired = await issueServerCertificate(ca, { dns: ['inferbox-test'], notBefore: new Date(Date.now() - 100 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
    const future = await issueServerCertificate(ca, { dns: ['inferbox-test'], notBefore: new Date(Date.now() + 10 * DAY_MS), notAfter: new Date(Date.now() + 100 * DAY_MS) });
    const elsewhere = await issueServerCertificate(ca, { dns: ['other.example'], ip: ['127.0.0.1', '192.0.2.99'] });
    const strangerCa = await makeTestCa('Another CA');
    const encryptedKey = createPrivateKey(good.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
    const cases: { name: string; body: string; status: number; error: RegExp }[] = [
      { name: 'key of another certificate', body: otherKey.keyPem + good.certPem, status: 400, error: /private key does not belong to the certificate \(the certificate is for CN=inferbox-test\.corp\.example\)/ },
      { name: 'expired', body: expired.keyPem + expired.certPem, status: 400, error: /certificate expired on \d{4}-/ },
      { name: 'not yet valid', body: future.keyPem + future.certPem, status: 400, error: /not valid before \d{4}-/ },
      { name: 'names neither the host name nor a LAN address', body: elsewhere.keyPem + elsewhere.certPem, status: 400, error: /names DNS:other\.example.*none of the names clients use to reach this server: inferbox-test, 192\.0\.2\.10/ },
      { name: 'chain with an issuer that did not issue it', body: good.keyPem + good.certPem + strangerCa.certPem, status: 400, error: /certificate chain: certificate 2 did not issue certificate 1/ },
      { name: 'no certificate', body: good.keyPem, status: 400, error: /no certificate found/ },
      { name: 'no key', body: good.certPem, status: 400, error: /no private key found/ },
      { name: 'two keys', body: good.keyPem + otherKey.keyPem + good.certPem, status: 400, error: /2 private keys found/ },
      { name: 'an encrypted key', body: encryptedKey + good.certPem, status: 400, error: /private key is encrypted/ },
      { name: 'a broken certificate block', body: `${good.keyPem}-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n`, status: 400, error: /certificate 1 cannot be read/ },
    ];
    for (const c of cases) {
      const answer = await put(c.body);
      assert.equal(answer.status, c.status, `${c.name}: ${answer.body}`);
      assert.match((JSON.parse(answer.body) as { error: string }).error, c.error, c.name);
    }
    const wrongType = await put(good.keyPem + good.certPem, 'application/json');
    assert.equal(wrongType.status, 415);
    const { key: inferKey } = JSON.parse((await httpsRequest(port(), '/api/keys', { method: 'POST', key: server.adminKey, contentType: 'application/json', body: JSON.stringify({ name: 'app', scopes: ['infer'] }) })).body) as { key: string };
    assert.equal((await put(good.keyPem + good.certPem, PEM, inferKey)).status, 403, 'admin only');
    assert.equal((await httpsRequest(port(), '/api/tls/certificate', { key: inferKey })).status, 403);

    const after = await httpsRequest(port(), '/v2/health/live');
    assert.equal(after.peer.fingerprint256, generated.certificate.fingerprint_sha256, 'nothing changed');
    assert.equal((await tlsView()).source, 'generated');
  });

  test('a good upload (key + chain) is served from the next handshake, verifies against its CA, is audited and survives a restart', async () => {
    const answer = await put(`${good.keyPem}${good.certPem}\n${ca.certPem}`);
    assert.equal(answer.status, 200, answer.body);
    const view = JSON.parse(answer.body) as TlsView;
    const leaf = new X509Certificate(good.certPem);
    assert.equal(view.applied, true);
    assert.equal(view.source, 'uploaded');
    assert.equal(view.last_change.kind, 'uploaded');
    assert.equal(view.certificate.fingerprint_sha256, leaf.fingerprint256);
    assert.equal(view.certificate.chain_length, 1);
    assert.deepEqual(view.certificate.dns_names, ['inferbox-test.corp.example']);

    // A client that trusts only the company CA now verifies the server, names included (IP 127.0.0.1).
    const verified = await httpsRequest(port(), '/v2/health/ready', { ca: ca.certPem });
    assert.equal(verified.status, 200);
    assert.equal(verified.peer.fingerprint256, leaf.fingerprint256);

    const download = await httpsRequest(port(), '/api/tls/certificate', { key: server.adminKey });
    assert.equal(download.status, 200);
    assert.match(String(download.headers['content-type']), /application\/x-pem-file/);
    assert.match(String(download.headers['content-disposition']), /attachment; filename="inferbox\.crt"/);
    assert.equal(download.body.match(/BEGIN CERTIFICATE/g)?.length, 2, 'the leaf and its chain');
    assert.equal(new X509Certificate(download.body).fingerprint256, leaf.fingerprint256, 'the leaf first');
    assert.equal(await readFile(join(server.dataDir, 'tls.crt'), 'utf8'), download.body, 'tls.crt in the data dir is the same file');
    assert.doesNotMatch(download.body, /PRIVATE KEY/);

    const audit = JSON.parse((await httpsRequest(port(), '/api/audit?action=tls.upload', { key: server.adminKey })).body) as { entries: { actor_name: string; target: string; details: { dns_names: string[] } }[] };
    assert.equal(audit.entries.length, 1);
    assert.equal(audit.entries[0]!.actor_name, 'admin');
    assert.equal(audit.entries[0]!.target, leaf.fingerprint256);
    assert.deepEqual(audit.entries[0]!.details.dns_names, ['inferbox-test.corp.example']);

    await server.stop();
    server = await startTestServer({ dataDir: server.dataDir, overrides: { host: '0.0.0.0', port: 0 }, network: manualNetwork(NETWORK) });
    const restarted = await tlsView();
    assert.equal(restarted.source, 'uploaded', 'remembered as uploaded');
    assert.equal(restarted.certificate.fingerprint_sha256, leaf.fingerprint256);
    assert.equal((await httpsRequest(port(), '/v2/health/ready', { ca: ca.certPem })).status, 200);
  });

  test('regenerate makes a new key and a self-signed certificate for the current names, served at once and audited', async () => {
    const before = await tlsView();
    const answer = await httpsRequest(port(), '/api/tls/regenerate', { method: 'POST', key: server.adminKey });
    assert.equal(answer.status, 200, answer.body);
    const view = JSON.parse(answer.body) as TlsView;
    assert.equal(view.source, 'generated');
    assert.equal(view.last_change.kind, 'regenerated');
    assert.notEqual(view.certificate.public_key_sha256, before.certificate.public_key_sha256, 'a new key: pinned public keys change');
    assert.ok(view.certificate.dns_names.includes('inferbox-test') && view.certificate.ip_addresses.includes('192.0.2.10'));
    const fresh = await httpsRequest(port(), '/v2/health/live');
    assert.equal(fresh.peer.fingerprint256, view.certificate.fingerprint_sha256);
    const audit = JSON.parse((await httpsRequest(port(), '/api/audit?action=tls.regenerate', { key: server.adminKey })).body) as { entries: { target: string; details: { previous_fingerprint_sha256: string } }[] };
    assert.equal(audit.entries[0]!.target, view.certificate.fingerprint_sha256);
    assert.equal(audit.entries[0]!.details.previous_fingerprint_sha256, before.certificate.fingerprint_sha256);
  });
});

test('bound to one address, an upload must cover that address', async () => {
  const server = await startTestServer({ overrides: { host: '127.0.0.1', port: 0, tls: 'on' }, network: manualNetwork(NETWORK) });
  try {
    const ca = await makeTestCa();
    const byName = await issueServerCertificate(ca, { dns: ['inferbox-test'] });
    const refused = await httpsRequest(server.running.port, '/api/tls/certificate', { method: 'PUT', key: server.adminKey, contentType: PEM, body: byName.keyPem + byName.certPem });
    assert.equal(refused.status, 400);
    assert.match(refused.body, /none of the names clients use to reach this server: 127\.0\.0\.1/);
    const byAddress = await issueServerCertificate(ca, { ip: ['127.0.0.1'] });
    const accepted = await httpsRequest(server.running.port, '/api/tls/certificate', { method: 'PUT', key: server.adminKey, contentType: PEM, body: byAddress.keyPem + byAddress.certPem });
    assert.equal(accepted.status, 200, accepted.body);
  } finally {
    await server.cleanup();
  }
});
