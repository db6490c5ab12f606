import { status, type Metadata, type StatusObject } from '@grpc/grpc-js';
import { InferboxError, inferboxError } from '../common/errors.js';

/**
 * The error table's HTTP statuses as gRPC status codes (the mapping of google.rpc.Code's
 * documentation): one table of errors, two protocols. A status not listed here is a server error.
 */
const BY_HTTP_STATUS: Record<number, status> = {
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.NOT_FOUND,
  409: status.FAILED_PRECONDITION,
  413: status.RESOURCE_EXHAUSTED,
  422: status.INVALID_ARGUMENT,
  429: status.RESOURCE_EXHAUSTED,
  503: status.UNAVAILABLE,
};

/**
 * A thrown value as the gRPC error the client sees, the REST message as `details`; extra REST
 * headers (Retry-After) and `metadata` go in the trailers. Anything that is not an InferboxError is
 * a bug: INTERNAL with the generic message (`onBug` logs the real one). A whole status, so a
 * handler's callback and an interceptor's sendStatus both take it.
 */
export function grpcStatusOf(error: unknown, metadata: Metadata, onBug: (error: unknown) => void): StatusObject {
  if (!(error instanceof InferboxError)) {
    onBug(error);
    return { code: status.INTERNAL, details: inferboxError('IBX_ERR_INTERNAL').message, metadata };
  }
  for (const [name, value] of Object.entries(error.headers)) metadata.set(name.toLowerCase(), value);
  return { code: BY_HTTP_STATUS[error.status] ?? status.INTERNAL, details: error.message, metadata };
}
