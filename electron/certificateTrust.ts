import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isLoopbackHost } from './loopback.js';

/** Colon hex, any case, with or without colons: `AB:CD:…` and `abcd…` are the same fingerprint. */
const normalize = (fingerprint: string) => fingerprint.replace(/:/g, '').toUpperCase();

/** Two SHA-256 fingerprints are the same (and non-empty, 64 hex digits). */
export function sameFingerprint(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  const x = normalize(a);
  return /^[0-9A-F]{64}$/.test(x) && x === normalize(b);
}

export interface CertificateErrorQuestion {
  /** The URL whose certificate Chromium refused (Electron's `certificate-error` `url`). */
  url: string;
  /** The refused certificate, PEM (Electron's `certificate.data`). */
  certificatePem: string;
  /** The origin the window was opened on (the appliance's loopback URL). */
  applianceOrigin: string | null;
  /** The fingerprint the appliance printed for its own certificate (null when it serves plain HTTP). */
  applianceFingerprint256: string | null;
}

/**
 * Whether to accept a certificate Chromium refused: only the appliance's own self-signed
 * certificate (exact SHA-256 of the DER), only on the appliance's own loopback origin over https.
 * Anything else — another certificate, another host or port, a certificate that cannot be read —
 * stays refused, so the window never trusts a self-signed certificate in general.
 */
export function trustApplianceCertificate(q: CertificateErrorQuestion): boolean {
  if (!q.applianceOrigin || !q.applianceFingerprint256) return false;
  let target: URL;
  try {
    target = new URL(q.url);
  } catch {
    return false;
  }
  if (target.protocol !== 'https:' || target.origin !== q.applianceOrigin || !isLoopbackHost(target.hostname)) return false;
  let fingerprint: string;
  try {
    fingerprint = new X509Certificate(q.certificatePem).fingerprint256;
  } catch {
    return false;
  }
  return sameFingerprint(fingerprint, q.applianceFingerprint256);
}

/**
 * The certificate the appliance serves now, from `tls.crt` in its data dir (null if it cannot be
 * read). The server rewrites that file before it swaps a renewed, uploaded or regenerated
 * certificate into its listener, so the fingerprint printed at start is not the one to trust for
 * the whole run.
 */
export function readApplianceCertificate(certificatePath: string): { pem: string; fingerprint256: string } | null {
  try {
    const pem = readFileSync(certificatePath, 'utf8');
    return { pem, fingerprint256: new X509Certificate(pem).fingerprint256 };
  } catch {
    return null;
  }
}
