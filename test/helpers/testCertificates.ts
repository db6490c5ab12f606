import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { NetworkNames, NetworkSource } from '../../server/tls/NetworkSource.js';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3_600_000;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface TestCertificate {
  keyPem: string;
  certPem: string;
  keys: webcrypto.CryptoKeyPair;
  cert: x509.X509Certificate;
}

const newKeys = async () => (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
const pemOf = (key: webcrypto.CryptoKey) => KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
const serial = () => randomBytes(16).toString('hex').replace(/^[89a-f]/, '7');

/** A company CA, as an admin's own certificates would come from. */
export async function makeTestCa(name = 'Test Company CA'): Promise<TestCertificate> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 365 * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  return { keyPem: pemOf(keys.privateKey), certPem: cert.toString('pem'), keys, cert };
}

/** A server certificate for the given names, issued by `ca`, valid from `notBefore` to `notAfter` (default: yesterday to in 90 days). */
export async function issueServerCertificate(ca: TestCertificate, options: { dns?: string[]; ip?: string[]; notBefore?: Date; notAfter?: Date }): Promise<TestCertificate> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${options.dns?.[0] ?? options.ip?.[0] ?? 'server'}`,
    issuer: ca.cert.subject,
    notBefore: options.notBefore ?? new Date(Date.now() - DAY_MS),
    notAfter: options.notAfter ?? new Date(Date.now() + 90 * DAY_MS),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...(options.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
        ...(options.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  return { keyPem: pemOf(keys.privateKey), certPem: cert.toString('pem'), keys, cert };
}

/** A network the test controls: `set` changes the names and tells the server, as a DHCP change would. */
export function manualNetwork(initial: NetworkNames): NetworkSource & { set(names: NetworkNames): void } {
  let names = initial;
  const listeners = new Set<(names: NetworkNames) => void>();
  return {
    current: () => names,
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(next) {
      names = next;
      for (const listener of listeners) listener(next);
    },
  };
}
