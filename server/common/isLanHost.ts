import { BlockList, isIP } from 'node:net';

/**
 * Addresses that stay on this machine or its local network: loopback, the private ranges
 * (RFC 1918, RFC 4193 unique-local IPv6) and link-local. Anything else may be on the internet.
 */
const LAN = new BlockList();
LAN.addSubnet('127.0.0.0', 8, 'ipv4');
LAN.addSubnet('10.0.0.0', 8, 'ipv4');
LAN.addSubnet('172.16.0.0', 12, 'ipv4');
LAN.addSubnet('192.168.0.0', 16, 'ipv4');
LAN.addSubnet('169.254.0.0', 16, 'ipv4');
LAN.addAddress('::1', 'ipv6');
LAN.addSubnet('fc00::', 7, 'ipv6');
LAN.addSubnet('fe80::', 10, 'ipv6');

/**
 * Whether a URL host is `localhost` or an IP literal in a loopback, private or link-local range.
 * Other host names are refused: a name could resolve to a public address now or later.
 */
export function isLanHost(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const family = isIP(bare);
  if (family === 0) return false;
  // BlockList judges an IPv4-mapped IPv6 address (::ffff:a00:1) by the IPv4 address it carries.
  return LAN.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}
