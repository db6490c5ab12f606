import { randomUUID } from 'node:crypto';

/** A caller's request id (X-Request-Id header, x-request-id gRPC metadata) is kept when it is sane, so logs on both sides can be joined. */
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's id when it is sane, else a fresh UUID. */
export function requestIdFrom(given: string | undefined): string {
  return given !== undefined && SANE_ID.test(given) ? given : randomUUID();
}
