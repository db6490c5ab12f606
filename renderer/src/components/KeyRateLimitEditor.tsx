import { useState, type FormEvent } from 'react';
import type { Api } from '../api.js';
import { ErrorText } from './Status.js';
import { rateLimitBody, type OwnRateLimit } from './rateLimitFields.js';

/** Changes one key's own rate limit in place (PUT /api/keys/{id}/rate-limit). */
export function KeyRateLimitEditor({ api, keyId, keyName, limit, onDone }: { api: Api; keyId: string; keyName: string; limit: OwnRateLimit; onDone: (changed: boolean) => void }) {
  const [perSecond, setPerSecond] = useState(limit.rate_limit_per_second === null ? '' : String(limit.rate_limit_per_second));
  const [burst, setBurst] = useState(limit.rate_limit_burst === null ? '' : String(limit.rate_limit_burst));
  const [error, setError] = useState<string>();
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      await api.send('PUT', `/api/keys/${keyId}/rate-limit`, rateLimitBody(perSecond, burst));
      onDone(true);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <form className="inline-form" onSubmit={(e) => void save(e)} aria-label={`Rate limit of ${keyName}`}>
      <label>Requests/s <input value={perSecond} onChange={(e) => setPerSecond(e.target.value)} inputMode="decimal" placeholder="default" /></label>
      <label>Burst <input value={burst} onChange={(e) => setBurst(e.target.value)} inputMode="numeric" placeholder="default" /></label>
      <button type="submit" className="small">Save</button>
      <button type="button" className="small" onClick={() => onDone(false)}>Cancel</button>
      <ErrorText error={error} />
    </form>
  );
}
