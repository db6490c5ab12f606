import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import type { SecureContextOptions } from 'node:tls';
import { ListenError } from '../common/ListenError.js';
import { grpcCallerAuthentication } from './grpcCallerAuthentication.js';
import { grpcInferenceHandlers, needsKey, type GrpcInferenceDeps, type Sized } from './grpcInferenceHandlers.js';
import { loadInferenceService } from './loadInferenceService.js';

type CertificatePair = { key: string; cert: string };

const contextOf = (pair: CertificatePair): SecureContextOptions => ({ key: [Buffer.from(pair.key)], cert: [Buffer.from(pair.cert)] });

/**
 * TLS credentials whose certificate can be replaced while the server runs. grpc-js has no public
 * call for that, but every secure server it binds watches its credentials and calls
 * `setSecureContext` when they change (the mechanism of its experimental certificate providers);
 * this feeds that watcher directly, so connections made after a swap get the new certificate and
 * open ones keep theirs. Relies on grpc-js internals (hence the exact version in package.json);
 * test/server/grpc/grpcTls.integration.test.ts proves the swap.
 */
class SwappableServerCredentials extends ServerCredentials {
  constructor(pair: CertificatePair) {
    super({ requestCert: false }, contextOf(pair));
  }

  swap(pair: CertificatePair): void {
    this.updateSecureContextOptions(contextOf(pair));
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

export interface GrpcListener {
  port: number;
  /** Serves another key and certificate from the next TLS handshake on (null without TLS). */
  setCertificate: ((pair: CertificatePair) => void) | null;
  /** Lets calls in flight finish (at most `graceMs`), then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

export interface GrpcServerOptions extends Omit<GrpcInferenceDeps, 'encodeInferResponse' | 'principalOf'> {
  host: string;
  /** 0: a free port chosen by the system. */
  port: number;
  tls: CertificatePair | null;
  /** The .proto the service is loaded from (shipped in the package's proto/). */
  protoPath: string;
  /** Largest request message: REST's body limit, so both protocols take the same inputs. */
  maxMessageBytes: number;
}

/**
 * ModelInfer's messages: the request keeps its size on the wire (for the request log), and the
 * handler encodes the response itself (to count its size and time), so grpc-js passes the bytes on.
 */
function withSizedInfer(service: ServiceDefinition): ServiceDefinition {
  const infer = service.ModelInfer!;
  return {
    ...service,
    ModelInfer: {
      ...infer,
      requestDeserialize: (bytes: Buffer): Sized<unknown> => ({ message: infer.requestDeserialize(bytes), bytes: bytes.length }),
      responseSerialize: (encoded: Buffer) => encoded,
    },
  };
}

const formatHost = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** The OIP v2 gRPC service (`inference.GRPCInferenceService`) on its own port; TLS with the REST listener's certificate when REST has TLS. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcListener> {
  const service = loadInferenceService(options.protoPath);
  // Keys are checked from each call's metadata, before its message is read.
  const authentication = grpcCallerAuthentication(options.access, needsKey, options.onBug);
  const server = new Server({ 'grpc.max_receive_message_length': options.maxMessageBytes, interceptors: [authentication.interceptor] });
  server.addService(
    withSizedInfer(service),
    grpcInferenceHandlers({ ...options, principalOf: authentication.principalOf, encodeInferResponse: (message) => service.ModelInfer!.responseSerialize(message) }),
  );
  const credentials = options.tls ? new SwappableServerCredentials(options.tls) : ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${formatHost(options.host)}:${options.port}`, credentials, (error, bound) => {
      if (error) {
        // grpc-js wraps the system's errors ("No address added out of total 1 resolved errors: [listen EADDRINUSE: …]"): the inner ones say what happened.
        const cause = /errors: \[(.+)\]$/.exec(error.message)?.[1] ?? error.message;
        reject(new ListenError(`cannot listen for gRPC on ${options.host}:${options.port} (${cause}); choose another port with --grpc-port or INFERBOX_GRPC_PORT (0: a free port; off: no gRPC)`));
      } else {
        resolve(bound);
      }
    });
  });
  return {
    port,
    setCertificate: credentials instanceof SwappableServerCredentials ? (pair) => credentials.swap(pair) : null,
    close: (graceMs = 2000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
