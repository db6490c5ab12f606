import { X509Certificate } from 'node:crypto';

/** DNS names and IP addresses of a certificate's subject alternative names. */
export interface SubjectAltNames {
  dnsNames: string[];
  ipAddresses: string[];
}

/** An IPv6 address in its canonical (RFC 5952) form: OpenSSL prints `0:0:0:0:0:0:0:1` for `::1`. */
function canonicalAddress(address: string): string {
  return address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

/**
 * Reads the subject alternative names with Node's own X509Certificate (no ASN.1 library to load:
 * @peculiar/x509 and its ASN.1 packages took ~0.2 s of every start just for this). Node documents
 * the format of `subjectAltName`: `Type:value` entries joined by ", ", where a value that could
 * be misread (one holding ", " or quotes) is a JSON string literal (CVE-2021-44532), so it is read
 * entry by entry, never split blindly.
 */
export function subjectAltNames(leafPem: string): SubjectAltNames {
  const text = new X509Certificate(leafPem).subjectAltName ?? '';
  const names: SubjectAltNames = { dnsNames: [], ipAddresses: [] };
  let at = 0;
  while (at < text.length) {
    const colon = text.indexOf(':', at);
    if (colon < 0) break;
    const type = text.slice(at, colon);
    let value: string;
    let end: number;
    if (text[colon + 1] === '"') {
      // A JSON string literal: find its closing quote (not one escaped by a backslash).
      end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      value = JSON.parse(text.slice(colon + 1, end + 1)) as string;
      end += 1;
    } else {
      end = text.indexOf(', ', colon);
      if (end < 0) end = text.length;
      value = text.slice(colon + 1, end);
    }
    if (type === 'DNS') names.dnsNames.push(value);
    else if (type === 'IP Address') names.ipAddresses.push(canonicalAddress(value));
    at = end + 2; // past ", "
  }
  return names;
}
