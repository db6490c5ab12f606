/**
 * The key in an `Authorization: Bearer <key>` header (HTTP) or `authorization` metadata (gRPC):
 * undefined when there is none, '' when it is malformed (both are refused with 401, but only a
 * malformed one says so).
 */
export function bearerTokenOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : '';
}
