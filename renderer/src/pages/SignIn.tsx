import { useEffect, useState, type FormEvent } from 'react';
import { Api, ApiError } from '../api.js';

/**
 * Sign in with an admin key; it is checked against the admin API before anything is shown. In the
 * desktop app the preload bridge hands over the key from the data dir (only to the window's own
 * loopback origin), so the admin signs in without pasting it; the form is the fallback.
 */
export function SignIn({ onSignedIn, tryDesktopKey = true, notice }: { onSignedIn: (api: Api) => void; tryDesktopKey?: boolean; notice?: string | undefined }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [checkingDesktop, setCheckingDesktop] = useState(() => tryDesktopKey && typeof window.inferboxDesktop?.getAdminKey === 'function');
  useEffect(() => {
    if (!checkingDesktop) return;
    let cancelled = false;
    void (async () => {
      try {
        const desktopKey = await window.inferboxDesktop?.getAdminKey();
        if (desktopKey) {
          const api = new Api(desktopKey);
          await api.get('/api/system');
          if (!cancelled) { onSignedIn(api); return; }
        }
      } catch {
        // No key for this page, or it no longer works: the form below.
      }
      if (!cancelled) setCheckingDesktop(false);
    })();
    return () => { cancelled = true; };
  }, [checkingDesktop, onSignedIn]);
  if (checkingDesktop) return <main className="signin"><p className="muted" role="status">Signing in…</p></main>;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const api = new Api(key.trim());
    try {
      await api.get('/api/system');
      onSignedIn(api);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setError('That key is not valid (or it was revoked or has expired).');
      else if (e instanceof ApiError && e.status === 403) setError('That key works, but it has no admin scope: use the admin key.');
      // Too many failed sign-ins from this address: the server says how long to wait (a valid key still signs in meanwhile).
      else if (e instanceof ApiError && e.status === 429) setError(`Too many failed attempts from this computer. ${e.message}`);
      else setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="signin">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
        <h1 id="signin-title">Inferbox console</h1>
        <p className="muted">Sign in with the admin key. It is in <code>admin.key</code> in the data directory (shown when the appliance first started).</p>
        {notice && <p role="status" className="warning">{notice}</p>}
        <label htmlFor="admin-key">Admin key</label>
        <input id="admin-key" type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} required autoFocus />
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit" disabled={busy || key.trim() === ''}>{busy ? 'Checking…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
