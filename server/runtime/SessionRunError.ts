/** onnxruntime refused to run a session on the given feeds; the caller knows which model it was. */
export class SessionRunError extends Error {
  override readonly name = 'SessionRunError';
}
