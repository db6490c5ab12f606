import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readApplianceCertificate, sameFingerprint, trustApplianceCertificate } from '../../electron/certificateTrust.js';
import { createSelfSignedCertificate } from '../../server/tls/createSelfSignedCertificate.js';

/** A certificate as the server makes it, with its fingerprint. */
async function applianceCertificate(names: { hostname: string; addresses: string[] }): Promise<{ cert: string; fingerprint256: string }> {
  const { cert } = await createSelfSignedCertificate(names);
  return { cert, fingerprint256: new X509Certificate(cert).fingerprint256 };
}

test('certificateTrust: exactly the appliance\'s own certificate, on its own loopback https origin', async () => {
  // Two real appliance certificates, made as the server makes them: same names, different keys.
  const ours = await applianceCertificate({ hostname: 'box', addresses: ['192.168.1.5'] });
  const other = await applianceCertificate({ hostname: 'box', addresses: ['192.168.1.5'] });
  assert.notEqual(ours.fingerprint256, other.fingerprint256);
  const ask = (over: Partial<Parameters<typeof trustApplianceCertificate>[0]>) =>
    trustApplianceCertificate({ url: 'https://localhost:8000/', certificatePem: ours.cert, applianceOrigin: 'https://localhost:8000', applianceFingerprint256: ours.fingerprint256, ...over });

  assert.equal(ask({}), true);
  assert.equal(ask({ url: 'https://localhost:8000/assets/index.js' }), true);
  assert.equal(ask({ applianceFingerprint256: ours.fingerprint256.toLowerCase() }), true, 'case does not matter');
  assert.equal(ask({ certificatePem: other.cert }), false, 'another self-signed certificate with the same names');
  assert.equal(ask({ applianceFingerprint256: ours.fingerprint256.slice(0, -2) + (ours.fingerprint256.endsWith('00') ? '01' : '00') }), false, 'one byte off');
  assert.equal(ask({ applianceFingerprint256: ours.fingerprint256.slice(0, 47) }), false, 'a prefix is not a fingerprint');
  assert.equal(ask({ applianceFingerprint256: null }), false, 'the server serves plain HTTP: nothing to trust');
  assert.equal(ask({ url: 'https://192.168.1.5:8000/', applianceOrigin: 'https://192.168.1.5:8000' }), false, 'not loopback');
  assert.equal(ask({ url: 'https://localhost:8001/' }), false, 'another port');
  assert.equal(ask({ url: 'https://example.com/' }), false, 'another site presenting our certificate');
  assert.equal(ask({ url: 'http://localhost:8000/' }), false);
  assert.equal(ask({ certificatePem: 'garbage' }), false);
  assert.equal(ask({ url: 'not a url' }), false);
  assert.equal(new X509Certificate(ours.cert).fingerprint256, ours.fingerprint256);
});

test('sameFingerprint: colons and case ignored, 32 bytes required', () => {
  const hex = 'AB'.repeat(32);
  const colons = hex.match(/../g)!.join(':');
  assert.equal(sameFingerprint(colons, hex.toLowerCase()), true);
  assert.equal(sameFingerprint('AB:CD', 'abcd'), false, 'too short to be SHA-256');
  assert.equal(sameFingerprint(null, colons), false);
  assert.equal(sameFingerprint('', ''), false);
});

test('readApplianceCertificate: the fingerprint of tls.crt as it is now (after a renewal too); null when unreadable', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'inferbox-cert-'));
  try {
    const path = join(dir, 'tls.crt');
    assert.equal(readApplianceCertificate(path), null, 'missing');
    const first = await applianceCertificate({ hostname: 'box', addresses: ['192.168.1.5'] });
    await writeFile(path, first.cert);
    assert.deepEqual(readApplianceCertificate(path), { pem: first.cert, fingerprint256: first.fingerprint256 });
    const renewed = await applianceCertificate({ hostname: 'box', addresses: ['192.168.1.6'] });
    await writeFile(path, renewed.cert);
    assert.equal(readApplianceCertificate(path)?.fingerprint256, renewed.fingerprint256);
    await writeFile(path, 'not a certificate');
    assert.equal(readApplianceCertificate(path), null);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
