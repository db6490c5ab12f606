import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { inferboxError } from '../common/errors.js';
import { certificateCovers } from './certificateCovers.js';
import type { CertificatePair } from './createSelfSignedCertificate.js';
import { certificateBlocks } from './describeCertificate.js';

const PEM_PRIVATE_KEY = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?)PRIVATE KEY-----[\s\S]+?-----END \1PRIVATE KEY-----/g;

export interface UploadRules {
  now: Date;
  /** The names clients use to reach this server (see `reachableNames`); the certificate must cover one. */
  reachableNames: string[];
  /** The machine's host name, which may also be covered by its full DNS name. */
  hostname: string;
}

function readKey(bundle: string): { pem: string; key: KeyObject } {
  const blocks = [...bundle.matchAll(PEM_PRIVATE_KEY)];
  if (blocks.length === 0) throw inferboxError('IBX_ERR_TLS_PEM_INVALID', 'no private key found (a "-----BEGIN PRIVATE KEY-----" block); send the key and the certificate in one PEM body');
  if (blocks.length > 1) throw inferboxError('IBX_ERR_TLS_PEM_INVALID', `${blocks.length} private keys found; send exactly one`);
  const [pem, kind] = [blocks[0]![0], blocks[0]![1]];
  // A passphrase would have to be stored next to the key, which protects nothing.
  if (kind === 'ENCRYPTED ') throw inferboxError('IBX_ERR_TLS_PEM_INVALID', 'the private key is encrypted; remove the passphrase first (openssl pkey -in key.pem -out key-plain.pem)');
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch (error) {
    throw inferboxError('IBX_ERR_TLS_PEM_INVALID', `the private key cannot be read (${(error as Error).message})`);
  }
}

function readChain(bundle: string): X509Certificate[] {
  const blocks = certificateBlocks(bundle);
  if (blocks.length === 0) throw inferboxError('IBX_ERR_TLS_PEM_INVALID', 'no certificate found (a "-----BEGIN CERTIFICATE-----" block)');
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw inferboxError('IBX_ERR_TLS_PEM_INVALID', `certificate ${i + 1} cannot be read (${(error as Error).message})`);
    }
  });
}

/**
 * Checks an admin's certificate upload before it replaces the serving one, so a mistake is a 400
 * that says what is wrong instead of a server no client can verify. The body is one PEM text: the
 * private key and the certificate chain (server certificate first, then its issuers).
 */
export function validateUploadedCertificate(bundle: string, rules: UploadRules): CertificatePair {
  const chain = readChain(bundle);
  const { pem: keyPem, key } = readKey(bundle);
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key)) throw inferboxError('IBX_ERR_TLS_KEY_MISMATCH', `the certificate is for ${leaf.subject.replace(/\n/g, ', ')}`);
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey)) {
      throw inferboxError('IBX_ERR_TLS_CHAIN_INVALID', `certificate ${i + 2} did not issue certificate ${i + 1}; put the server certificate first, then each issuer in order`);
    }
  }
  const validFrom = new Date(leaf.validFrom);
  const validTo = new Date(leaf.validTo);
  if (rules.now < validFrom) throw inferboxError('IBX_ERR_TLS_CERT_NOT_YET_VALID', validFrom.toISOString());
  if (rules.now > validTo) throw inferboxError('IBX_ERR_TLS_CERT_EXPIRED', validTo.toISOString());
  const cert = chain.map((c) => c.toString()).join('');
  const covered = rules.reachableNames.some((name) => certificateCovers(leaf.toString(), name, { asHostname: name === rules.hostname }));
  if (!covered) throw inferboxError('IBX_ERR_TLS_NAME_NOT_COVERED', leaf.subjectAltName ?? leaf.subject.replace(/\n/g, ', '), rules.reachableNames.join(', '));
  try {
    createSecureContext({ key: keyPem, cert });
  } catch (error) {
    throw inferboxError('IBX_ERR_TLS_PEM_INVALID', `OpenSSL cannot serve this pair (${(error as Error).message})`);
  }
  return { key: keyPem, cert };
}
