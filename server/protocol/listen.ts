import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ListenError } from '../common/ListenError.js';

export interface Listener {
  server: Server;
  port: number;
  /**
   * Serves another key and certificate from the next TLS handshake on (null for plain HTTP).
   * Connections already open keep their session, so requests in flight and keep-alive clients
   * are not disturbed.
   */
  setCertificate: ((pair: { key: string; cert: string }) => void) | null;
}

/** One listener, one port: HTTPS when TLS material is given, plain HTTP otherwise. */
export async function listen(handler: RequestListener, options: { host: string; port: number; tls: { key: string; cert: string } | null }): Promise<Listener> {
  const https = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : null;
  const server: Server = https ?? createHttpServer(handler);
  // Keep-alive longer than common LAN proxies' idle timeouts, so they never reuse a closed socket.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new ListenError(`cannot listen on ${options.host}:${options.port} (${error.code ?? error.message}); choose another address with --host/--port or INFERBOX_HOST/INFERBOX_PORT (they override a saved setting)`)),
    );
    server.listen(options.port, options.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port, setCertificate: https ? (pair) => https.setSecureContext(pair) : null };
}
