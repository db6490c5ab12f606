import { useState } from 'react';
import type { Api } from '../api.js';
import { ServeScopePanel } from '../components/ServeScope.js';
import { ErrorText, Status } from '../components/Status.js';
import { useLoad } from '../components/useLoad.js';
import { BackupsPanel } from './BackupsPanel.js';
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
  { name: 'model_memory_budget_bytes', label: 'Model memory budget (bytes, 0 = 75% of RAM)', help: 'Loading a model beyond it is refused instead of exhausting memory (estimate: 2× the file + 4 MB per instance).' },
  { name: 'disk_low_space_warning_bytes', label: 'Warn below this free disk space (bytes)', help: 'For the disk that holds the data directory; shown on the dashboard.' },
  { name: 'backup_interval_hours', label: 'Back up every (hours, 0 = off)', help: 'Each backup holds the database, every model file and the TLS pair (Backups below).' },
  { name: 'backup_keep', label: 'Backups kept (per kind)', help: 'Older scheduled (or manual) backups are deleted after each new one.' },
  { name: 'backup_dir', label: 'Backup folder', help: 'Absolute, or relative to the data folder; empty: <data folder>/backups. Another disk protects against more.' },
  { name: 'cors_allowed_origins', label: 'Browser origins allowed to call the API (CORS)', help: 'Exact origins such as https://app.example.com, separated by spaces; empty: none.' },
  { name: 'metrics_loopback_without_key', label: 'Prometheus on this machine may read /metrics without a key (true, false)', help: 'Otherwise a key with the metrics scope is needed. Not behind a reverse proxy on this machine: every client would look local.' },
  { name: 'otlp_traces_endpoint', label: 'Send traces to (OTLP/HTTP URL)', help: 'A collector on this machine or the LAN, e.g. http://192.168.1.20:4318/v1/traces (IP addresses only); empty: tracing off, nothing is sent.' },
  { name: 'pipeline_max_treatment_share', label: "Most traffic a pipeline's upload may take (0 to 1)", help: "For experiments a 'models:write' key starts with its upload: the candidate's weight, every canary step and the shadow copy stay at or below this share, with the error-rate and circuit-breaker guardrails on. Only an admin starts or widens more, or promotes." },
  { name: 'capacity_warning_ratio', label: 'Warn when a model runs above this share of its tuned capacity (e.g. 0.8)', help: 'For five minutes in a row: a banner on the dashboard and the capacity.warning webhook event. Capacity comes from tuning a model with a latency objective (Models → Tuning).' },
  { name: 'tracing_sample_ratio', label: 'Share of new traces recorded (0 to 1)', help: "A caller's own traceparent decision is followed." },
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
      <BackupsPanel api={api} />
      <WebhooksPanel api={api} />
    </>
  );
}
