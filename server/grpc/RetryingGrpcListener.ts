import { ListenError } from '../common/ListenError.js';
import type { GrpcListener } from './startGrpcServer.js';

type CertificatePair = { key: string; cert: string };

/** Where the gRPC service stands: listening, or waiting for its port (why, and how often it is tried again). */
export type GrpcStatus =
  | { state: 'up'; port: number }
  | { state: 'unavailable'; port: number; reason: string; retryIntervalSeconds: number };

export interface RetryingGrpcListenerOptions {
  /** The port to bind (0: a free one). */
  port: number;
  /** TLS material at start (null without TLS); `setCertificate` replaces it. */
  tls: CertificatePair | null;
  /**
   * A port the admin named for this run (--grpc-port / INFERBOX_GRPC_PORT): failing to bind it
   * fails the start, as for the REST port. Otherwise a taken port only makes gRPC unavailable.
   */
  required: boolean;
  /** Binds a new gRPC server (each try makes its own: grpc-js cannot bind a server again after a failure). */
  bind: (port: number, tls: CertificatePair | null) => Promise<GrpcListener>;
  /** Wait between tries while the port is taken. */
  retryMs: number;
  /** Each change of state after the first try: a retry bound the port, or a retry failed (`error`). */
  onRetry: (status: GrpcStatus, error?: unknown) => void;
}

/**
 * The gRPC listener, kept trying when its port is taken at start. gRPC is the optional protocol
 * beside REST: with `grpc_port` auto (REST + 1) its port can be held by another service or by an
 * outgoing connection's ephemeral port after a restart, and that must not stop the appliance (issue
 * 17). So REST serves, the status says why gRPC is unavailable, and the port is tried again every
 * `retryMs` until it binds. The timer is unref'd: waiting for a port never keeps the process alive.
 */
export class RetryingGrpcListener {
  #listener: GrpcListener | null = null;
  #tls: CertificatePair | null;
  #reason = '';
  #timer: NodeJS.Timeout | null = null;
  #retrying: Promise<void> | null = null;
  #closed = false;

  private constructor(private readonly options: RetryingGrpcListenerOptions) {
    this.#tls = options.tls;
  }

  /**
   * Binds once. A taken port (ListenError) is thrown when `required`, and otherwise leaves the
   * listener unavailable and retrying; any other error is a bug and is thrown.
   */
  static async start(options: RetryingGrpcListenerOptions): Promise<RetryingGrpcListener> {
    const keeper = new RetryingGrpcListener(options);
    try {
      keeper.#listener = await options.bind(options.port, options.tls);
    } catch (error) {
      if (options.required || !(error instanceof ListenError)) throw error;
      keeper.#reason = error.message;
      keeper.#scheduleRetry();
    }
    return keeper;
  }

  status(): GrpcStatus {
    if (this.#listener) return { state: 'up', port: this.#listener.port };
    return { state: 'unavailable', port: this.options.port, reason: this.#reason, retryIntervalSeconds: this.options.retryMs / 1000 };
  }

  /** Serves another key and certificate from the next TLS handshake on, now or once a retry binds. */
  setCertificate(pair: CertificatePair): void {
    this.#tls = pair;
    this.#listener?.setCertificate?.(pair);
  }

  /** Stops retrying, waits for a try in progress, then drains the listener (at most `graceMs`). */
  async close(graceMs?: number): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#retrying;
    await this.#listener?.close(graceMs);
  }

  #scheduleRetry(): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#retrying = this.#retry().finally(() => { this.#retrying = null; });
    }, this.options.retryMs);
    this.#timer.unref();
  }

  async #retry(): Promise<void> {
    const tls = this.#tls;
    try {
      const listener = await this.options.bind(this.options.port, tls);
      // A certificate swapped in while this try was binding reached no listener.
      if (this.#tls !== tls && this.#tls) listener.setCertificate?.(this.#tls);
      this.#listener = listener;
    } catch (error) {
      // Whatever stopped this try (a retry runs on a timer: nothing may throw there), gRPC stays
      // unavailable for that reason and is tried again.
      this.#reason = error instanceof Error ? error.message : String(error);
      if (this.#closed) return;
      this.#scheduleRetry();
      this.options.onRetry(this.status(), error);
      return;
    }
    if (!this.#closed) this.options.onRetry(this.status());
  }
}
