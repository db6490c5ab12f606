/**
 * The tuning server (beside main.ts: another entry to the composition root): a child process of
 * the tuning process (tuning/tuningProcess) that runs an appliance of its own (startServer) on
 * 127.0.0.1 over plain HTTP, without gRPC, the WebGPU probe or the bundled model, in a data dir
 * of its own, so the tuner measures candidates through the same serving path (HTTP, auth, request
 * log, metrics, batching, workers) as the real server without touching its models, settings or
 * logs. It answers its port once listening, and closes when asked or when its parent goes.
 */
import { pino } from 'pino';
import { startServer } from './startServer.js';
import type { TuningServerReply, TuningServerRequest } from './tuning/tuningProtocol.js';

process.once('message', (request: TuningServerRequest) => {
  void (async () => {
    try {
      const server = await startServer({
        dataDir: request.dataDir,
        overrides: { host: '127.0.0.1', port: 0, grpc_port: 'off', tls: 'off' },
        bundledModelsDir: null, // it serves only what it is sent
        execution: request.execution,
        webgpuProbe: false,
        logger: pino({ level: 'silent' }),
      });
      const close = () => void server.close().finally(() => process.exit(0));
      process.once('message', close);
      process.once('disconnect', close);
      process.send!({ ok: true, port: server.port, adminKeyPath: server.adminKeyPath } satisfies TuningServerReply);
    } catch (error) {
      process.send!({ ok: false, error: error instanceof Error ? error.message : String(error) } satisfies TuningServerReply, () => process.exit(1));
    }
  })();
});
