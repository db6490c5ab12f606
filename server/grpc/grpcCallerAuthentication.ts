import { Metadata, ServerInterceptingCall, type ServerInterceptingCallInterface, type ServerInterceptor } from '@grpc/grpc-js';
import { constants, type ServerHttp2Stream } from 'node:http2';
import type { Principal } from '../auth/ApiKeyService.js';
import { authenticateCaller, type CallerAccess } from '../auth/authenticateCaller.js';
import { bearerTokenOf } from '../auth/bearerTokenOf.js';
import { requestIdFrom } from '../common/requestIdFrom.js';
import { grpcStatusOf } from './grpcStatusOf.js';

/** `ipv4:port`, `[ipv6]:port` or `ipv6:port` as grpc-js reports the peer → the address alone. */
function peerAddress(peer: string): string {
  const bracketed = /^\[(.+)\]:\d+$/.exec(peer);
  if (bracketed) return bracketed[1]!;
  const colon = peer.lastIndexOf(':');
  return colon > 0 ? peer.slice(0, colon) : peer;
}

/** A text metadata entry's first value (binary `-bin` entries are never keys or ids). */
function textOf(metadata: Metadata, name: string): string | undefined {
  const [value] = metadata.get(name);
  return typeof value === 'string' ? value : undefined;
}

/**
 * Asks the client to stop sending a refused call's message: RST_STREAM with NO_ERROR after the
 * complete answer, as RFC 9113 §8.1 allows (clients keep the status they already have). Without it
 * grpc-js reads the rest of the stream and drops it: for a 60 MB message that cost 0.4-0.7 s of the
 * server's CPU after the answer. grpc-js has no public way to the stream; the call the first
 * interceptor is given (its BaseServerInterceptingCall) holds it as `stream`, an internal: hence the
 * exact version pin, and grpcAuthBeforeMessage.integration.test.ts proves the reset.
 */
function stopReceiving(call: ServerInterceptingCallInterface): void {
  const stream = (call as unknown as { stream?: ServerHttp2Stream }).stream;
  if (stream && !stream.closed) stream.close(constants.NGHTTP2_NO_ERROR);
}

export interface GrpcCallerAuthentication {
  /** The server's interceptor: authenticates every call that needs a key from its metadata. */
  interceptor: ServerInterceptor;
  /** Who the interceptor authenticated the call with this metadata as (undefined for a call it let through without a key). */
  principalOf(metadata: Metadata): Principal | undefined;
}

/**
 * Authentication at the metadata stage, as REST refuses before reading the body: a call that needs
 * a key and has none, or a key that is not valid, is answered UNAUTHENTICATED (RESOURCE_EXHAUSTED
 * with retry-after while its address backs off or is blocked) from its headers, so its message is
 * never read (grpc-js reads a call's data only once the handler asks for it), and the client is
 * asked to stop sending it. A 60 MB ModelInfer without a key used to be read and decoded first
 * (issue 19: up to a second, and up to 115 MB of RSS). What the key may do (rate limit, scope) is
 * checked by the handler with the principal handed over here, since the scope depends on the model
 * the message names; the key is verified once. grpc-js passes the metadata object on to the
 * handler (`call.metadata`), so it carries the principal.
 */
export function grpcCallerAuthentication(access: CallerAccess, needsKey: (path: string) => boolean, onBug: (error: unknown, method: string) => void): GrpcCallerAuthentication {
  const principals = new WeakMap<Metadata, Principal>();
  const interceptor: ServerInterceptor = (method, call) => {
    if (!needsKey(method.path)) return new ServerInterceptingCall(call);
    const name = method.path.slice(method.path.lastIndexOf('/') + 1);
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            let principal: Principal;
            try {
              principal = authenticateCaller({ token: bearerTokenOf(textOf(metadata, 'authorization')), address: peerAddress(call.getPeer()) }, access);
            } catch (error) {
              const trailers = new Metadata();
              trailers.set('x-request-id', requestIdFrom(textOf(metadata, 'x-request-id')));
              call.sendStatus(grpcStatusOf(error, trailers, (bug) => onBug(bug, name)));
              stopReceiving(call);
              return;
            }
            principals.set(metadata, principal);
            pass(metadata);
          },
        }),
    });
  };
  return { interceptor, principalOf: (metadata) => principals.get(metadata) };
}
