/** An address cannot be bound (in use, not an address of this machine, no permission): the REST or the gRPC port. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}
