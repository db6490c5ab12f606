import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isLanAddress } from './isLanAddress.js';

export type Lookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

const systemLookup: Lookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** The endpoint's name resolved to an address outside the LAN: refused, not retried. */
export class PublicAddressRefused extends Error {
  override readonly name = 'PublicAddressRefused';
}

/**
 * The address one delivery connects to. Every address the name resolves to must be on the LAN (a
 * name with one public answer among private ones is refused: which one a client picks is not ours
 * to control). The caller then connects to exactly this address — the HTTP client's own lookup is
 * pinned to it — so a DNS answer that changes between this check and the connection (DNS
 * rebinding) cannot send the request elsewhere. Names are resolved at every attempt, since a
 * name's answer can change between deliveries.
 */
export async function resolveLanTarget(hostname: string, lookup: Lookup = systemLookup): Promise<{ address: string; family: 4 | 6 }> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  const answers = isIP(bare) !== 0 ? [{ address: bare, family: isIP(bare) }] : await lookup(bare);
  const outside = answers.find((a) => !isLanAddress(a.address));
  if (outside) throw new PublicAddressRefused(`${hostname} resolves to ${outside.address}, which is not on the LAN: refused`);
  const first = answers[0];
  if (!first) throw new Error(`${hostname} did not resolve to any address`);
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
