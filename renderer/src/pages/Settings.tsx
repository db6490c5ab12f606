import { useState } from 'react';
import type { Api } from '../api.js';
import { ServeScopePanel } from '../components/ServeScope.js';
import { ErrorText, Status } from '../components/Status.js';
import { useLoad } from '../components/useLoad.js';
import { WebhooksPanel } from '../components/WebhooksPanel.js';
import { CertificatePanel } from './CertificatePanel.js';

interface SettingsView { effective: Record<string, unknown>; saved: Record<string, unknown>; defaults: Record<string, unknown>; overridden: string[] }

const FIELDS: { name: string; label: string; help: string }[] = [
  { name: 'host', label: 'Bind address', help: '0.0.0.0 serves the LAN; 127.0.0.1 only this machine. Applies after a restart.' },
  { name: 'port', label: 'Port', help: 'Applies after a restart.' },
  { name: 'tls', label: 'HTTPS (auto, on, off)', help: 'auto: HTTPS unless bound to loopback. Applies after a restart.' },
  { name: 'log_retention_days', label: 'Keep request logs (days)', help: '' },
  { name: 'payload_retention_days', label: 'Keep logged payloads (days)', help: 'Payload logging is switched on per model (Models → Payload logging); this is the retention for models that do not set their own.' },
  { name: 'batch_max_size', label: 'Default max batch size', help: 'Per model in Models → settings.' },
  { name: 'model_idle_unload_seconds', label: 'Unload idle models after (s, 0 = never)', help: '' },
  { name: 'cache_max_bytes', label: 'Response cache size (bytes)', help: '' },
  { name: 'key_rate_limit_per_second', label: 'Default key rate limit (requests/s, 0 = unlimited)', help: 'For keys without their own limit (Keys page), the admin key included.' },
  { name: 'key_rate_limit_burst', label: 'Default key burst', help: 'Requests a key may make at once above its rate.' },
  { name: 'auth_failures_before_backoff', label: 'Failed sign-ins before an address must wait', help: '' },
  { name: 'auth_block_after_failures', label: 'Failed sign-ins before an address is blocked', help: '' },
  { name: 'auth_block_seconds', label: 'Block length (s)', help: '' },
  { name: 'cors_allowed_origins', label: 'Browser origins allowed to call the API (CORS)', help: 'Exact origins such as https://app.example.com, separated by spaces; empty: none.' },
];

/** A setting as the form shows it: lists space-separated. */
const shown = (value: unknown) => (Array.isArray(value) ? value.join(' ') : String(value ?? ''));

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
      } else if (Array.isArray(current)) {
        changes[name] = value.split(/[\s,]+/).filter(Boolean);
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
      <ServeScopePanel api={api} />
      <Status loading={settings.loading} error={settings.error} onRetry={() => void settings.reload()}>
        {settings.data && (
          <form className="card settings" onSubmit={(e) => { e.preventDefault(); void save(); }}>
            {FIELDS.map((f) => (
              <label key={f.name}>
                {f.label}
                <input value={draft[f.name] ?? shown(settings.data!.effective[f.name])} onChange={(e) => setDraft({ ...draft, [f.name]: e.target.value })} aria-describedby={`${f.name}-help`} />
                <small id={`${f.name}-help`} className="muted">
                  {f.help} Default: {shown(settings.data!.defaults[f.name]) || 'none'}.
                  {settings.data!.overridden.includes(f.name) && ` Set for this run by a command-line flag or environment variable (${shown(settings.data!.effective[f.name])}): a saved value applies only once that is removed.`}
                </small>
              </label>
            ))}
            <button type="submit" disabled={Object.keys(draft).length === 0}>Save</button>
            {message && <p role="status">{message}</p>}
            <ErrorText error={error} />
          </form>
        )}
      </Status>
      <CertificatePanel api={api} />
      <WebhooksPanel api={api} />
    </>
  );
}
