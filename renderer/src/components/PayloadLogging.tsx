import { useState } from 'react';
import type { Api } from '../api.js';
import { download } from './download.js';
import { ErrorText, Status } from './Status.js';
import { useLoad } from './useLoad.js';

interface ServingSettings { effective: { log_payloads: boolean; payload_retention_days: number } }
interface PayloadSummary { id: number; ts: string; request_id: string; version: string | null; bytes: number }
interface Erased { deleted: { payloads: number; live_samples: number; wal_truncated: boolean } }

/** What the admin must know before (and while) payloads are kept: said once, shown twice. */
const warning = (days: number) =>
  `Payloads can contain personal or confidential data. This model's requests and responses will be stored on this machine for ${days} day(s), then deleted; anyone with an admin key can read and export them. Turn this on only when you need it, and erase what you no longer need.`;

/** `datetime-local` values are local time; the API takes ISO times. */
const isoOf = (local: string) => (local ? new Date(local).toISOString() : undefined);

/**
 * One model's payload logging: the switch (with its warning and a confirmation), the retention,
 * the stored payloads (newest, without content), JSON-lines export and erasure (all, a time range,
 * one request id). The server audits each change, export and erasure.
 */
export function PayloadLogging({ api, model }: { api: Api; model: string }) {
  const settings = useLoad(() => api.get<ServingSettings>(`/api/models/${model}/settings`), [api, model]);
  const stored = useLoad(() => api.get<{ payloads: PayloadSummary[]; total: number }>(`/api/payloads?model=${encodeURIComponent(model)}&limit=5`), [api, model]);
  const [retention, setRetention] = useState<string>();
  const [requestId, setRequestId] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  const on = settings.data?.effective.log_payloads === true;
  const days = settings.data?.effective.payload_retention_days ?? 0;

  const run = async (work: () => Promise<string | undefined>) => {
    setError(undefined);
    setMessage(undefined);
    try {
      setMessage(await work());
      await Promise.all([settings.reload(), stored.reload()]);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const put = (body: Record<string, unknown>) => api.send('PUT', `/api/models/${model}/settings`, body);
  const toggle = () => {
    if (!on && !window.confirm(`${warning(days)}\n\nLog payloads of ${model}?`)) return;
    void run(async () => { await put({ log_payloads: !on }); return undefined; });
  };
  const saveRetention = () => {
    const value = Number(retention);
    if (!Number.isInteger(value) || value < 1) {
      setError('Retention: enter a whole number of days, 1 or more');
      return;
    }
    void run(async () => { await put({ payload_retention_days: value }); setRetention(undefined); return 'Retention saved.'; });
  };
  const exportAll = () => void run(async () => {
    download(`payloads-${model}.jsonl`, await api.getText(`/api/payloads/export?model=${encodeURIComponent(model)}`), 'application/x-ndjson');
    return undefined;
  });
  const erase = (filter: Record<string, string | undefined>, what: string) => {
    if (!window.confirm(`Erase ${what}? This cannot be undone.`)) return;
    const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
    void run(async () => {
      const { deleted } = await api.send<Erased>('DELETE', `/api/payloads?${query}`);
      return `Erased ${deleted.payloads} payload(s) and ${deleted.live_samples} live sample(s).`;
    });
  };

  return (
    <Status loading={settings.loading} error={settings.error}>
      {settings.data && <div className="settings">
        <label className="checkbox">
          <input type="checkbox" checked={on} onChange={toggle} /> Log request and response payloads of this model
        </label>
        {on
          ? <p role="alert" className="warning">{warning(days)}</p>
          : <p className="muted">Off: no request or response of this model is stored.</p>}
        <form className="inline-form" onSubmit={(e) => { e.preventDefault(); saveRetention(); }}>
          <label>Keep payloads (days) <input inputMode="numeric" value={retention ?? String(days)} onChange={(e) => setRetention(e.target.value)} /></label>
          <button type="submit" disabled={retention === undefined}>Save retention</button>
        </form>
        <p>{stored.data ? `${stored.data.total} payload(s) stored` : ''}{stored.data?.payloads[0] ? `, newest ${stored.data.payloads[0].ts}` : ''}</p>
        <div className="inline-form">
          <button type="button" disabled={!stored.data?.total} onClick={exportAll}>Export (JSON lines)</button>
          <button type="button" className="danger" disabled={!stored.data?.total} onClick={() => erase({ model }, `every stored payload of ${model}`)}>Erase all</button>
        </div>
        <form className="inline-form" onSubmit={(e) => { e.preventDefault(); erase({ request_id: requestId.trim() }, `the payload of request ${requestId.trim()}`); }}>
          <label>Request id <input value={requestId} onChange={(e) => setRequestId(e.target.value)} /></label>
          <button type="submit" className="danger" disabled={requestId.trim() === ''}>Erase request</button>
        </form>
        <form className="inline-form" onSubmit={(e) => { e.preventDefault(); erase({ model, since: isoOf(since), until: isoOf(until) }, `${model}'s payloads in this time range`); }}>
          <label>From <input type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} /></label>
          <label>To <input type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} /></label>
          <button type="submit" className="danger" disabled={!since && !until}>Erase range</button>
        </form>
        {message && <p role="status">{message}</p>}
        <ErrorText error={error ?? stored.error} />
      </div>}
    </Status>
  );
}
