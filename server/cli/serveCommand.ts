import { performance } from 'node:perf_hooks';
import { startServer } from '../startServer.js';
import { parseServeOptions } from './parseServeOptions.js';

/** `inferbox serve`: the headless appliance. Prints where it listens; stops cleanly on SIGINT/SIGTERM. */
export async function serveCommand(flags: Record<string, string | undefined>, out: NodeJS.WriteStream = process.stdout): Promise<void> {
  const options = parseServeOptions(flags, process.env);
  const running = await startServer(options);
  // A closed stdout (the parent that read our URLs went away) must not crash the server.
  out.on('error', () => undefined);
  const say = (line: string) => out.write(`${line}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal} received: stopping`);
    running.close().then(() => process.exit(0), () => process.exit(1));
  };
  // Listening before the banner: whoever reads it (a supervisor, a test) may signal at once, and a
  // signal that came before the listener would kill the process without a drain. `on`, not `once`
  // (stop() ignores repeats): a second signal must not end the process mid-drain either.
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Started by the desktop app with an IPC channel: a stop message drains like SIGTERM (on Windows
  // a signal cannot: it kills outright), and a parent that went away (the app crashed) stops us too,
  // so no orphan keeps the port and the database.
  if (process.send) {
    process.on('message', (message) => { if (message === 'inferbox:stop') stop('stop message'); });
    process.once('disconnect', () => stop('parent gone'));
  }
  say(`Inferbox is ready in ${Math.round(performance.now())} ms (since process start). Reach it at:`);
  for (const url of running.urls) say(`  ${url}`);
  const grpc = running.grpcStatus();
  if (grpc.state === 'up') say(`OIP v2 gRPC${running.tlsFingerprint ? ' (TLS)' : ''} at: ${running.grpcTargets.join(', ')}`);
  if (grpc.state === 'unavailable') say(`WARNING: OIP v2 gRPC is unavailable, REST serves: ${grpc.reason}. Port ${grpc.port} is tried again every ${grpc.retryIntervalSeconds} s.`);
  if (running.tlsFingerprint) say(`TLS certificate SHA-256 fingerprint: ${running.tlsFingerprint}`);
  for (const warning of running.tlsWarnings()) say(`WARNING: ${warning}`);
  say(`Execution: ${running.plan.provider}, ${running.plan.instances} worker instance(s) × ${running.plan.intraOpThreads} thread(s)`);
  if (running.createdAdminKey && out.isTTY) {
    say(`Admin key (shown this once; also in ${running.adminKeyPath}):\n  ${running.createdAdminKey}`);
  } else {
    say(`Admin key file: ${running.adminKeyPath}`);
  }
}
