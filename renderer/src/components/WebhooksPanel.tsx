import { useState } from 'react';
import type { Api } from '../api.js';
import { CopyButton, ErrorText, Status } from './Status.js';
import { useLoad } from './useLoad.js';

interface Webhook { id: string; url: string; events: string[]; enabled: boolean; created_at: string }
interface Delivery { id: string; event_type: string; status: 'pending' | 'delivered' | 'failed'; attempts: number; last_status_code: number | null; last_error: string | null; created_at: string; next_attempt_at: string | null }

/** One endpoint's delivery log, refreshed every 3 s while open (retries show up as they happen). */
function DeliveryLog({ api, id }: { api: Api; id: string }) {
  const log = useLoad(() => api.get<{ deliveries: Delivery[] }>(`/api/webhooks/${id}/deliveries?limit=50`), [api, id], 3000);
  const deliveries = log.data?.deliveries ?? [];
  return (
    <Status loading={log.loading} error={log.error} onRetry={() => void log.reload()}>
      {deliveries.length === 0 ? <p className="muted">No deliveries yet.</p> : (
        <div className="scroll">
          <table data-testid={`deliveries-${id}`}>
            <thead><tr><th>When</th><th>Event</th><th>Status</th><th>Attempts</th><th>Last answer</th></tr></thead>
            <tbody>
              {deliveries.map((d) => (
                <tr key={d.id}>
                  <td>{new Date(d.created_at).toLocaleString()}</td>
                  <td><code>{d.event_type}</code></td>
                  <td>{d.status}{d.status === 'pending' && d.next_attempt_at ? `, next ${new Date(d.next_attempt_at).toLocaleTimeString()}` : ''}</td>
                  <td>{d.attempts}</td>
                  <td>{d.last_error ?? (d.last_status_code !== null ? `HTTP ${d.last_status_code}` : '—')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Status>
  );
}

/**
 * Webhook endpoints on the LAN: add (the signing secret is shown once), enable/disable, test-send,
 * delete, and each endpoint's delivery log.
 */
export function WebhooksPanel({ api }: { api: Api }) {
  const list = useLoad(() => api.get<{ webhooks: Webhook[]; event_types: string[] }>('/api/webhooks'), [api]);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[] | null>(null);
  const [secret, setSecret] = useState<string>();
  const [open, setOpen] = useState<string>();
  const [error, setError] = useState<string>();
  const eventTypes = list.data?.event_types ?? [];
  const chosen = events ?? eventTypes;
  const run = async (task: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await task();
      await list.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const add = () => run(async () => {
    const created = await api.send<{ secret: string; id: string }>('POST', '/api/webhooks', { url, events: chosen });
    setSecret(created.secret);
    setUrl('');
    setOpen(created.id);
  });
  const toggle = (event: string) => setEvents(chosen.includes(event) ? chosen.filter((e) => e !== event) : [...chosen, event]);
  return (
    <section className="card" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">Webhooks</h2>
      <p className="muted">
        Signed POSTs to systems on this network when a model is registered, an experiment is rolled back or completed, or an int8 decision is made.
        Only loopback, private and link-local addresses are accepted; host names are checked again at every delivery. Failed deliveries are retried with growing delays.
      </p>
      <form onSubmit={(e) => { e.preventDefault(); void add(); }}>
        <label>Endpoint URL <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="http://10.0.0.20:9000/inferbox" required /></label>
        <fieldset>
          <legend>Events</legend>
          {eventTypes.map((event) => (
            <label key={event} className="inline"><input type="checkbox" checked={chosen.includes(event)} onChange={() => toggle(event)} /> <code>{event}</code></label>
          ))}
        </fieldset>
        <button type="submit" disabled={!url || chosen.length === 0}>Add webhook</button>
      </form>
      {secret && (
        <p role="status" data-testid="webhook-secret">
          Signing secret (shown once; the receiver verifies <code>Inferbox-Signature</code> with it): <code>{secret}</code> <CopyButton text={secret} />
        </p>
      )}
      <ErrorText error={error} />
      <Status loading={list.loading} error={list.error} onRetry={() => void list.reload()}>
        {(list.data?.webhooks ?? []).map((w) => (
          <div key={w.id} className="webhook">
            <p>
              <code>{w.url}</code> — {w.enabled ? 'enabled' : 'disabled'}; {w.events.join(', ')}
            </p>
            <div className="actions">
              <button type="button" className="small" onClick={() => void run(async () => { await api.send('POST', `/api/webhooks/${w.id}/test`); setOpen(w.id); })}>Send test</button>
              <button type="button" className="small" onClick={() => void run(() => api.send('PUT', `/api/webhooks/${w.id}`, { enabled: !w.enabled }))}>{w.enabled ? 'Disable' : 'Enable'}</button>
              <button type="button" className="small" onClick={() => setOpen(open === w.id ? undefined : w.id)}>{open === w.id ? 'Hide deliveries' : 'Deliveries'}</button>
              <button type="button" className="small danger" onClick={() => { if (window.confirm(`Delete the webhook to ${w.url}? Pending deliveries are dropped.`)) void run(() => api.send('DELETE', `/api/webhooks/${w.id}`)); }}>Delete</button>
            </div>
            {open === w.id && <DeliveryLog api={api} id={w.id} />}
          </div>
        ))}
      </Status>
    </section>
  );
}
