/** A key's own rate limit as the keys API takes and lists it: the form fields' parsing and the table's wording. */
export interface OwnRateLimit { rate_limit_per_second: number | null; rate_limit_burst: number | null }

/** An empty field follows the server default; anything else must be a number (never silently 0). */
function parseLimitField(label: string, text: string): number | null {
  if (text.trim() === '') return null;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`${label}: enter a number, or leave it empty for the server default`);
  return value;
}

export function rateLimitBody(perSecond: string, burst: string): OwnRateLimit {
  return { rate_limit_per_second: parseLimitField('Requests/s', perSecond), rate_limit_burst: parseLimitField('Burst', burst) };
}

export function describeRateLimit(limit: OwnRateLimit): string {
  if (limit.rate_limit_per_second === null) return limit.rate_limit_burst === null ? 'server default' : `server default rate, burst ${limit.rate_limit_burst}`;
  if (limit.rate_limit_per_second === 0) return 'unlimited';
  return `${limit.rate_limit_per_second}/s, burst ${limit.rate_limit_burst ?? 'default'}`;
}
