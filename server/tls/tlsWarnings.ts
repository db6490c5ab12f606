import type { CertificateStatus } from './TlsCertificates.js';

/** What an admin must know about the server's TLS, in words (console, banner, /api/system). */
export function tlsWarnings(status: CertificateStatus, bindHost: string): string[] {
  const warnings: string[] = [];
  if (status.plainHttpOnLan) {
    warnings.push(`The server listens on ${bindHost} without TLS (tls: off): API keys and data cross the network unencrypted. Use tls auto or on unless a TLS-terminating proxy is the only way in.`);
  }
  if (status.uncoveredNewNames.length > 0) {
    warnings.push(`The uploaded certificate does not cover ${status.uncoveredNewNames.join(', ')}, which this machine gained since the upload: clients that use ${status.uncoveredNewNames.length === 1 ? 'it' : 'them'} will fail verification. Upload a certificate that covers ${status.uncoveredNewNames.length === 1 ? 'it' : 'them'} (the appliance never changes an uploaded certificate).`);
  }
  if (status.certificate && status.https && Date.parse(status.certificate.validTo) < Date.now()) {
    warnings.push(`The certificate expired on ${status.certificate.validTo}: clients will refuse it. Upload a current one or regenerate.`);
  }
  return warnings;
}
