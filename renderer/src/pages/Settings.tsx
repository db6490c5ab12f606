import { useState } from 'react';
import type { Api } from '../api.js';
import { ErrorText, Status } from '../components/Status.js';
import { useLoad } from '../components/useLoad.js';
import { CertificatePanel } from './CertificatePanel.js';

interface SettingsView { effective: Record<string, unknown>; saved: Record<string, unknown>; defaults: Record<string, unknown> }

const FIELDS: { name: string; label: string; help: string }[] = [
  { name: 'host', label: 'Bind address', help: '0.0.0.0 serves the LAN; 127.0.0.1 only this machine. Applies after a restart.' },
  { name: 'port', label: 'Port', help: 'Applies after a restart.' },
  { name: 'tls', label: 'HTTPS (auto, on, off)', help: 'auto: HTTPS unless bound to loopback. Applies after a restart.' },
  { name: 'log_retention_days', label: 'Keep request logs (days)', help: '' },
  { name: 'batch_max_size', label: 'Default max batch size', help: 'Per model in Models → settings.' },
  { name: 'model_idle_unload_seconds', label: 'Unload idle models after (s, 0 = never)', help: '' },
  { name: 'cache_max_bytes', label: 'Response cache size (bytes)', help: '' },
];

/** Server settings: what runs now, what is saved, and a form to change them. */
export function Settings({ api }: { api: Api }) {
  const settings = useLoad(() => api.get<SettingsView>('/api/settings'), [api]);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  const save = async () => {
    setError(undefined);
    setMessage(undefined);
    const changes: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(draft)) {
      const current = settings.data?.effective[name];
      if (typeof current === 'number') {
        // An empty or non-numeric field is a mistake to point at, never a value (Number('') is 0: port 0 is a random port).
        if (value.trim() === '' || !Number.isFinite(Number(value))) {
          setError(`${FIELDS.find((f) => f.name === name)?.label ?? name}: enter a number`);
          return;
        }
        changes[name] = Number(value);
      } else {
        changes[name] = typeof current === 'boolean' ? value === 'true' : value;
      }
    }
    try {
      const result = await api.send<{ restart_required: string[] }>('PUT', '/api/settings', changes);
      setMessage(result.restart_required.length > 0 ? `Saved. Restart the appliance for: ${result.restart_required.join(', ')}.` : 'Saved.');
      setDraft({});
      await settings.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <>
      <h1>Settings</h1>
      <Status loading={settings.loading} error={settings.error} onRetry={() => void settings.reload()}>
        {settings.data && (
          <form className="card settings" onSubmit={(e) => { e.preventDefault(); void save(); }}>
            {FIELDS.map((f) => (
              <label key={f.name}>
                {f.label}
                <input value={draft[f.name] ?? String(settings.data!.effective[f.name] ?? '')} onChange={(e) => setDraft({ ...draft, [f.name]: e.target.value })} aria-describedby={`${f.name}-help`} />
                <small id={`${f.name}-help`} className="muted">{f.help} Default: {String(settings.data!.defaults[f.name])}</small>
              </label>
            ))}
            <label className="checkbox">
              <input type="checkbox" checked={(draft.log_payloads ?? String(settings.data.effective.log_payloads)) === 'true'} onChange={(e) => setDraft({ ...draft, log_payloads: String(e.target.checked) })} />
              Log request and response payloads
            </label>
            {(draft.log_payloads ?? String(settings.data.effective.log_payloads)) === 'true' && (
              <p role="alert" className="warning">Payloads can contain personal or confidential data. They are kept in the request log on this machine for {String(settings.data.effective.log_retention_days)} days and anyone with the admin key can read them. Turn this on only for debugging.</p>
            )}
            <button type="submit" disabled={Object.keys(draft).length === 0}>Save</button>
            {message && <p role="status">{message}</p>}
            <ErrorText error={error} />
          </form>
        )}
      </Status>
      <CertificatePanel api={api} />
    </>
  );
}
