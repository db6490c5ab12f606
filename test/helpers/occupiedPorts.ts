import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';

/** Another service holding a port on 127.0.0.1 (0: a free one). */
export async function occupy(port: number): Promise<Server> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

export const release = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** A free REST port whose next port (where gRPC's `auto` goes) another listener holds. */
export async function restPortBesideATakenOne(): Promise<{ restPort: number; blocker: Server }> {
  for (let tries = 0; tries < 20; tries++) {
    const probe = await occupy(0);
    const restPort = (probe.address() as AddressInfo).port;
    await release(probe);
    if (restPort >= 65535) continue;
    try {
      return { restPort, blocker: await occupy(restPort + 1) };
    } catch {
      // Its neighbour is in use already: pick another pair.
    }
  }
  throw new Error('no free pair of neighbouring ports on 127.0.0.1');
}
