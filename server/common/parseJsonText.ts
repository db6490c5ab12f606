import { inferboxError } from './errors.js';

/** JSON text from a body or a form part (`what` names it in the 400). */
export function parseJsonText(text: string, what: string): unknown {
  if (text.length === 0) throw inferboxError('IBX_ERR_INVALID_JSON', `${what} is empty`);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // Only the position: V8's message quotes the body, and payloads stay out of logs.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw inferboxError('IBX_ERR_INVALID_JSON', position ? `${what}: syntax error at byte ${position}` : `${what}: syntax error (unexpected end of input or token)`);
  }
}
