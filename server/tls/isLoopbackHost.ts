/** A bind address only this machine can reach (plain HTTP there never crosses the network). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.') || host.startsWith('::ffff:127.');
}
