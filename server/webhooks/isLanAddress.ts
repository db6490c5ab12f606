import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Where webhooks may go: this machine and the local network, nothing routed to the internet. An
 * allow-list, so anything unlisted (public, CGNAT 100.64/10, multicast, 0.0.0.0, documentation
 * ranges) is refused.
 */
const LAN = new BlockList();
LAN.addSubnet('127.0.0.0', 8, 'ipv4'); // loopback (RFC 1122)
LAN.addSubnet('10.0.0.0', 8, 'ipv4'); // private (RFC 1918)
LAN.addSubnet('172.16.0.0', 12, 'ipv4');
LAN.addSubnet('192.168.0.0', 16, 'ipv4');
LAN.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local (RFC 3927)
LAN.addAddress('::1', 'ipv6'); // loopback
LAN.addSubnet('fc00::', 7, 'ipv6'); // unique local (RFC 4193)
LAN.addSubnet('fe80::', 10, 'ipv6'); // link-local

/** `::ffff:10.0.0.5` or `::ffff:a00:5` (IPv4-mapped) → `10.0.0.5`, so it meets the IPv4 rules. */
function unmapIPv4(address: string): string | null {
  const mapped = /^::ffff:(?:0:)?(.+)$/i.exec(address)?.[1];
  if (mapped === undefined) return null;
  if (isIPv4(mapped)) return mapped;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(mapped);
  if (!hex) return null;
  const [high, low] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** True for a loopback, private or link-local IPv4/IPv6 address literal; false for anything else. */
export function isLanAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''); // URL brackets, IPv6 zone id
  if (isIPv4(bare)) return LAN.check(bare, 'ipv4');
  if (!isIPv6(bare)) return false;
  const v4 = unmapIPv4(bare);
  return v4 !== null ? LAN.check(v4, 'ipv4') : LAN.check(bare, 'ipv6');
}
