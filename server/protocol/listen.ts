import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { AppState } from './AppContext.js';

/** The address cannot be bound (in use, not an address of this machine, no permission). */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/** One listener, one port: HTTPS when TLS material is given, plain HTTP otherwise. */
export async function listen(app: Koa<AppState>, options: { host: string; port: number; tls: { key: string; cert: string } | null }): Promise<{ server: Server; port: number }> {
  const handler = app.callback();
  const server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
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
  return { server, port: (server.address() as AddressInfo).port };
}
