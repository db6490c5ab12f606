import { webcrypto, KeyObject, X509Certificate, randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** SHA-256 fingerprint of the DER certificate, colon-separated hex (as browsers show it). */
  fingerprint256: string;
}

export const TLS_KEY_FILE = 'tls.key';
export const TLS_CERT_FILE = 'tls.crt';

/** ECDSA P-256: WebCrypto makes it in milliseconds (an RSA key in JS would slow the first start). */
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const VALID_YEARS = 5;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/**
 * Returns the appliance's TLS key and certificate, generating a self-signed pair on first use.
 * The names cover the host name, localhost and the LAN addresses, so clients that check names
 * can pin it; the key file is readable by the owner only.
 */
export async function ensureCertificate(dataDir: string, names: { hostname: string; addresses: string[] }): Promise<TlsMaterial> {
  const keyPath = join(dataDir, TLS_KEY_FILE);
  const certPath = join(dataDir, TLS_CERT_FILE);
  try {
    const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
    return { key, cert, fingerprint256: new X509Certificate(cert).fingerprint256 };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { key, cert } = await createSelfSigned(names);
  await writeFile(keyPath, key, { mode: 0o600 });
  await chmod(keyPath, 0o600);
  await writeFile(certPath, cert, { mode: 0o644 });
  return { key, cert, fingerprint256: new X509Certificate(cert).fingerprint256 };
}

async function createSelfSigned(names: { hostname: string; addresses: string[] }): Promise<{ key: string; cert: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore);
  notAfter.setFullYear(notAfter.getFullYear() + VALID_YEARS);
  const dnsNames = [...new Set([names.hostname, 'localhost'])].filter(Boolean);
  const ips = [...new Set(['127.0.0.1', '::1', ...names.addresses])];
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
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
