import { hostname, networkInterfaces } from 'node:os';

/** Non-internal IPv4 and IPv6 addresses of this machine, as other machines on the LAN reach it. */
export function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((info): info is NonNullable<typeof info> => info !== undefined && !info.internal && !(info.family === 'IPv6' && info.address.startsWith('fe80')))
    .map((info) => info.address);
}

export function machineHostname(): string {
  return hostname();
}
