import type { NetworkNames } from '../tls/NetworkSource.js';

const formatHost = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** Every URL the server can be reached at: for a wildcard bind, localhost, the host name and each LAN address. */
export function serverUrls(options: { host: string; port: number; https: boolean; names: NetworkNames }): string[] {
  const scheme = options.https ? 'https' : 'http';
  const wildcard = options.host === '0.0.0.0' || options.host === '::';
  const hosts = wildcard ? ['localhost', options.names.hostname, ...options.names.addresses.filter((a) => options.host === '::' || !a.includes(':'))] : [options.host];
  return [...new Set(hosts)].map((h) => `${scheme}://${formatHost(h)}:${options.port}`);
}
