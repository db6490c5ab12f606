import type { z } from 'zod';
import { inferboxError } from './errors.js';

/**
 * Validates caller input against a schema; on failure a 400 that lists every problem with its
 * path (`inputs.0.shape: ...`), so the caller sees which field is wrong.
 */
export function parseRequest<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'}: ${issue.message}`);
  throw inferboxError('IBX_ERR_INVALID_REQUEST', problems.join('; '));
}
