import { inferboxError } from '../common/errors.js';
import type { JobItem } from './JobItem.js';

/**
 * A JSON-lines upload (application/x-ndjson, application/jsonl): one object per line, an OIP infer
 * request body (or, for a prediction job, a row of features: `expected` says which). Blank lines
 * are skipped but still counted, so errors name the line an editor shows.
 */
export function parseJsonLines(text: string, expected = 'an OIP infer request object ({"inputs": [...]})'): JobItem[] {
  const items: JobItem[] = [];
  text.replace(/^\uFEFF/, '').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const label = `line ${i + 1}`;
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch {
      // Not V8's message: it quotes the payload, and payloads stay out of responses and logs.
      throw inferboxError('IBX_ERR_JOB_INPUT', label, 'not valid JSON');
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      throw inferboxError('IBX_ERR_JOB_INPUT', label, `each line must be ${expected}`);
    }
    items.push({ label, request });
  });
  return items;
}
