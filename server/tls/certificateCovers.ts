import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { subjectAltNames } from './subjectAltNames.js';

/**
 * Whether a client that reaches the server by `name` can verify the certificate (the leaf of a
 * chain): OpenSSL's RFC 6125 host matching (wildcards included) or an exact IP address. With
 * `asHostname`, a DNS name whose first label is `name` counts too: operating systems often report
 * the short host name (`box`) while a company CA names the full one (`box.corp.example`).
 */
export function certificateCovers(leafPem: string, name: string, options: { asHostname?: boolean } = {}): boolean {
  const leaf = new X509Certificate(leafPem);
  if (isIP(name)) return leaf.checkIP(name) !== undefined;
  if (leaf.checkHost(name) !== undefined) return true;
  if (!options.asHostname || name.includes('.')) return false;
  const prefix = `${name.toLowerCase()}.`;
  return subjectAltNames(leafPem).dnsNames.some((dns) => dns.toLowerCase().startsWith(prefix));
}
