import { createPrivateKey, createPublicKey, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import type { NetworkNames } from './NetworkSource.js';

/** ECDSA P-256: WebCrypto makes it in milliseconds (an RSA key in JS would slow the first start). */
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const KEY_PARAMS = { name: ALGORITHM.name, namedCurve: ALGORITHM.namedCurve } as const;
const VALID_YEARS = 5;

/**
 * @peculiar/x509 (and its ASN.1 packages, ~0.2 s of module loading) loads when a certificate is
 * made (a first HTTPS start, a renewal, a regeneration), not on every start.
 */
let library: Promise<typeof X509> | undefined;
function x509Library(): Promise<typeof X509> {
  library ??= import('@peculiar/x509').then((x509) => {
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  });
  return library;
}

/** A private key (PKCS#8 PEM) and its certificate chain (PEM, leaf first). */
export interface CertificatePair {
  key: string;
  cert: string;
}

/** A new key pair, or the appliance's existing P-256 key (a renewal keeps pinned public keys working). */
async function keyPair(existingKeyPem: string | undefined): Promise<webcrypto.CryptoKeyPair> {
  if (existingKeyPem === undefined) return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const pkcs8 = createPrivateKey(existingKeyPem).export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(existingKeyPem).export({ type: 'spki', format: 'der' });
  return {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, KEY_PARAMS, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, KEY_PARAMS, true, ['verify']),
  };
}

/**
 * A self-signed server certificate naming the host name, localhost and the given addresses (plus
 * the loopback addresses), so clients that check names can trust it once it is pinned. With
 * `existingKeyPem` the certificate is reissued for the same key.
 */
export async function createSelfSignedCertificate(names: NetworkNames, existingKeyPem?: string): Promise<CertificatePair> {
  const x509 = await x509Library();
  const keys = await keyPair(existingKeyPem);
  const notBefore = new Date(Date.now() - 60_000); // a minute of slack for clients whose clocks run behind
  const notAfter = new Date(notBefore);
  notAfter.setFullYear(notAfter.getFullYear() + VALID_YEARS);
  const dnsNames = [...new Set([names.hostname, 'localhost'])].filter(Boolean);
  const ips = [...new Set(['127.0.0.1', '::1', ...names.addresses])];
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    // Positive and 16 bytes (RFC 5280 §4.1.2.2): a leading byte below 0x80.
    serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '7'),
    name: `CN=${names.hostname || 'inferbox'}, O=Inferbox appliance`,
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const key = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { key, cert: certificate.toString('pem') };
}
