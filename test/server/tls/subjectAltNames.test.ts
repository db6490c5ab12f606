import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { createSelfSignedCertificate } from '../../../server/tls/createSelfSignedCertificate.js';
import { subjectAltNames } from '../../../server/tls/subjectAltNames.js';

/** The names as an ASN.1 library reads them (what the server used before), IPv6 as it prints them. */
function asnNames(pem: string): { dnsNames: string[]; ipAddresses: string[] } {
  const items = new x509.X509Certificate(pem).getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  return { dnsNames: items.filter((n) => n.type === 'dns').map((n) => n.value), ipAddresses: items.filter((n) => n.type === 'ip').map((n) => n.value) };
}

test('subject alternative names read with Node match an ASN.1 reading, IPv6 in canonical form', async () => {
  const { cert } = await createSelfSignedCertificate({ hostname: 'box', addresses: ['192.168.1.20', 'fe80::1ab:2cd', '2001:db8:0:0:0:0:0:7'] });
  const names = subjectAltNames(cert);
  assert.deepEqual(names, { dnsNames: ['box', 'localhost'], ipAddresses: ['127.0.0.1', '::1', '192.168.1.20', 'fe80::1ab:2cd', '2001:db8::7'] });
  assert.deepEqual(names, asnNames(cert));
});

test('a name holding ", " or quotes is one name (Node quotes it as JSON), not several', async () => {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const tricky = ['a.example, DNS:evil.example', 'quote"d.example', 'plain.example'];
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=test',
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    keys,
    extensions: [new x509.SubjectAlternativeNameExtension([...tricky.map((value) => ({ type: 'dns' as const, value })), { type: 'ip', value: '10.0.0.1' }])],
  });
  const pem = certificate.toString('pem');
  assert.deepEqual(subjectAltNames(pem), { dnsNames: tricky, ipAddresses: ['10.0.0.1'] });
  assert.deepEqual(subjectAltNames(pem), asnNames(pem));
});
