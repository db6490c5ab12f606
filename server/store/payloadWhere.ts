/** Which stored payloads an export or an erasure covers; every field given must match. */
export interface PayloadFilter {
  model?: string | undefined;
  /** ISO time, inclusive. */
  since?: string | undefined;
  /** ISO time, exclusive. */
  until?: string | undefined;
  request_id?: string | undefined;
}

/**
 * The WHERE clause of a payload filter for a table with these column names: payloads and live
 * samples are both payloads (one erasure covers both) but name their columns differently.
 */
export function payloadWhere(filter: PayloadFilter, columns: { model: string; ts: string; requestId: string }): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown) => { clauses.push(clause); params.push(value); };
  if (filter.model !== undefined) add(`${columns.model} = ?`, filter.model);
  if (filter.since !== undefined) add(`${columns.ts} >= ?`, filter.since);
  if (filter.until !== undefined) add(`${columns.ts} < ?`, filter.until);
  if (filter.request_id !== undefined) add(`${columns.requestId} = ?`, filter.request_id);
  return { sql: clauses.length > 0 ? clauses.join(' AND ') : '1', params };
}
