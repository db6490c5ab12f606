import { useState } from 'react';
import type { Api } from '../api.js';
import { ErrorText, Status } from './Status.js';
import { useLoad } from './useLoad.js';

interface ThrottledAddress { address: string; state: 'backoff' | 'blocked'; failures: number; until: string }

/**
 * Addresses the server refuses for now after failed authentication (waiting, or blocked), with
 * an early unblock. Refreshed every 5 s: a flood shows up without reloading the page.
 */
export function BlockedAddresses({ api }: { api: Api }) {
  const list = useLoad(() => api.get<{ addresses: ThrottledAddress[] }>('/api/security/blocked-addresses'), [api], 5000);
  const [error, setError] = useState<string>();
  const unblock = async (address: string) => {
    setError(undefined);
    try {
      await api.send('DELETE', `/api/security/blocked-addresses/${encodeURIComponent(address)}`);
      await list.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const addresses = list.data?.addresses ?? [];
  return (
    <section className="card" aria-labelledby="blocked-title">
      <h2 id="blocked-title">Blocked addresses</h2>
      <p className="muted">
        After repeated failed sign-ins or API calls with a wrong key, an address must wait, then is blocked for a while: every request from it
        with a missing or wrong key is refused at once. Valid keys from it are still served, so one failing app does not lock out the others
        on the same computer or network. Behind a reverse proxy all clients share the proxy&apos;s address.
      </p>
      <Status loading={list.loading} error={list.error} onRetry={() => void list.reload()}>
        {addresses.length === 0 ? (
          <p className="muted" data-testid="no-blocked-addresses">No address is waiting or blocked.</p>
        ) : (
          <div className="scroll">
            <table>
              <caption className="sr-only">Blocked addresses</caption>
              <thead><tr><th>Address</th><th>State</th><th>Failures</th><th>Until</th><th /></tr></thead>
              <tbody>
                {addresses.map((a) => (
                  <tr key={a.address}>
                    <td><code>{a.address}</code></td>
                    <td>{a.state === 'blocked' ? 'blocked' : 'backing off'}</td>
                    <td>{a.failures}</td>
                    <td>{new Date(a.until).toLocaleTimeString()}</td>
                    <td><button type="button" className="small" onClick={() => void unblock(a.address)} aria-label={`Unblock ${a.address}`}>Unblock</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Status>
      <ErrorText error={error} />
    </section>
  );
}
