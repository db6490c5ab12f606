import { Fragment, useState, type FormEvent } from 'react';
import type { Api } from '../api.js';
import { CopyButton, ErrorText, Status } from '../components/Status.js';
import { useLoad } from '../components/useLoad.js';
import { BlockedAddresses } from '../components/BlockedAddresses.js';
import { KeyRateLimitEditor } from '../components/KeyRateLimitEditor.js';
import { describeRateLimit, rateLimitBody, type OwnRateLimit } from '../components/rateLimitFields.js';

/** `status` is the server's (ApiKeyService.keyStatus): the page does not judge expiry by the browser's clock. */
interface KeyRow extends OwnRateLimit { id: string; name: string; scopes: string[]; created_at: string; last_used_at: string | null; expires_at: string | null; revoked_at: string | null; status: 'active' | 'expired' | 'revoked' }

/** API keys: create (the key is shown once), list with last use, rate limits, revoke; addresses blocked after failed sign-ins. */
export function Keys({ api }: { api: Api }) {
  const keys = useLoad(() => api.get<{ keys: KeyRow[] }>('/api/keys'), [api]);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState('infer');
  const [expires, setExpires] = useState('');
  const [perSecond, setPerSecond] = useState('');
  const [burst, setBurst] = useState('');
  const [editing, setEditing] = useState<string>();
  const [created, setCreated] = useState<{ key: string; name: string }>();
  const [error, setError] = useState<string>();
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      const result = await api.send<{ key: string; row?: { name: string }; name?: string }>('POST', '/api/keys', {
        name,
        scopes: scopes.split(/[\s,]+/).filter(Boolean),
        ...rateLimitBody(perSecond, burst),
        // Valid through the chosen day, in the admin's own time zone.
        ...(expires ? { expires_at: new Date(`${expires}T23:59:59`).toISOString() } : {}),
      });
      setCreated({ key: result.key, name });
      setName('');
      setPerSecond('');
      setBurst('');
      await keys.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const revoke = async (row: KeyRow) => {
    if (!window.confirm(`Revoke the key "${row.name}"? Apps using it stop working at once.`)) return;
    try {
      await api.send('DELETE', `/api/keys/${row.id}`);
      await keys.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <>
      <h1>API keys</h1>
      <form className="card inline-form" onSubmit={(e) => void create(e)} aria-labelledby="new-key-title">
        <h2 id="new-key-title">New key</h2>
        <label>Name <input value={name} onChange={(e) => setName(e.target.value)} required placeholder="shop backend" /></label>
        <label>Scopes <input value={scopes} onChange={(e) => setScopes(e.target.value)} required aria-describedby="scopes-help" /></label>
        <small id="scopes-help" className="muted">admin, infer, feedback, metrics (Prometheus scraping only), models:write (a training pipeline: register versions), or infer:&lt;model&gt;; separate with spaces</small>
        <label>Valid through <input type="date" value={expires} onChange={(e) => setExpires(e.target.value)} /></label>
        <label>Requests/s <input value={perSecond} onChange={(e) => setPerSecond(e.target.value)} inputMode="decimal" placeholder="server default" aria-describedby="limit-help" /></label>
        <label>Burst <input value={burst} onChange={(e) => setBurst(e.target.value)} inputMode="numeric" placeholder="server default" /></label>
        <small id="limit-help" className="muted">empty: the server default (Settings); 0 requests/s: unlimited</small>
        <button type="submit">Create key</button>
        <ErrorText error={error} />
      </form>
      {created && (
        <div className="card notice" role="status">
          <p>Key <strong>{created.name}</strong> created. Copy it now: it is not shown again.</p>
          <code className="wrap" data-testid="new-key">{created.key}</code> <CopyButton text={created.key} />
          <button type="button" className="small" onClick={() => setCreated(undefined)}>Done</button>
        </div>
      )}
      <Status loading={keys.loading} error={keys.error} onRetry={() => void keys.reload()}>
        <div className="scroll">
        <table>
          <caption className="sr-only">API keys</caption>
          <thead><tr><th>Name</th><th>Id</th><th>Scopes</th><th>Created</th><th>Last used</th><th>Expires</th><th>Rate limit</th><th>Status</th><th /></tr></thead>
          <tbody>
            {(keys.data?.keys ?? []).map((k) => (
              <Fragment key={k.id}>
              <tr>
                <td>{k.name}</td><td><code>{k.id}</code></td><td>{k.scopes.join(', ')}</td>
                <td>{new Date(k.created_at).toLocaleString()}</td>
                <td>{k.last_used_at ? new Date(k.last_used_at).toLocaleString() : 'never'}</td>
                <td>{k.expires_at ? new Date(k.expires_at).toLocaleDateString() : '—'}</td>
                <td>{describeRateLimit(k)} {!k.revoked_at && <button type="button" className="small" onClick={() => setEditing(k.id)} aria-label={`Change the rate limit of ${k.name}`}>Change</button>}</td>
                <td data-testid={`key-status-${k.id}`}>{k.status}</td>
                <td>{!k.revoked_at && <button type="button" className="small danger" onClick={() => void revoke(k)} aria-label={`Revoke ${k.name}`}>Revoke</button>}</td>
              </tr>
              {editing === k.id && (
                <tr><td colSpan={9}>
                  <KeyRateLimitEditor api={api} keyId={k.id} keyName={k.name} limit={k} onDone={(changed) => { setEditing(undefined); if (changed) void keys.reload(); }} />
                </td></tr>
              )}
              </Fragment>
            ))}
          </tbody>
        </table>
        </div>
      </Status>
      <BlockedAddresses api={api} />
    </>
  );
}
