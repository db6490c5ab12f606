import { createHash, X509Certificate } from 'node:crypto';
import { subjectAltNames } from './subjectAltNames.js';

/** What clients and the console need to know about a certificate (the leaf of a chain). */
export interface CertificateDescription {
  /** SHA-256 of the DER certificate, colon hex, as browsers show it. */
  fingerprintSha256: string;
  /** SHA-256 of the public key (SubjectPublicKeyInfo), base64: what `curl --pinnedpubkey sha256//…` takes. */
  publicKeySha256: string;
  subject: string;
  issuer: string;
  dnsNames: string[];
  ipAddresses: string[];
  validFrom: string;
  validTo: string;
  /** Certificates after the leaf (intermediates), for an uploaded chain. */
  chainLength: number;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM blocks of a chain, in order. */
export function certificateBlocks(pem: string): string[] {
  return pem.match(PEM_CERTIFICATE) ?? [];
}

export function describeCertificate(chainPem: string): CertificateDescription {
  const blocks = certificateBlocks(chainPem);
  const leaf = new X509Certificate(blocks[0] ?? chainPem);
  const spki = leaf.publicKey.export({ type: 'spki', format: 'der' });
  return {
    fingerprintSha256: leaf.fingerprint256,
    publicKeySha256: createHash('sha256').update(spki).digest('base64'),
    subject: leaf.subject.replace(/\n/g, ', '),
    issuer: leaf.issuer.replace(/\n/g, ', '),
    ...subjectAltNames(leaf.toString()),
    validFrom: new Date(leaf.validFrom).toISOString(),
    validTo: new Date(leaf.validTo).toISOString(),
    chainLength: Math.max(0, blocks.length - 1),
  };
}
