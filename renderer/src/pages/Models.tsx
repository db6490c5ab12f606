import { useState, type DragEvent } from 'react';
import type { Api } from '../api.js';
import { PayloadLogging } from '../components/PayloadLogging.js';
import { BatchPredict } from '../components/BatchPredict.js';
import { CurlExample } from '../components/CurlExample.js';
import { LazyDetails } from '../components/LazyDetails.js';
import { ModelCardEditor } from '../components/ModelCardEditor.js';
import { PredictForm } from '../components/PredictForm.js';
import { ErrorText, Status } from '../components/Status.js';
import { ExportButtons } from '../components/ExportButtons.js';
import { TuningPanel } from '../components/TuningPanel.js';
import { VersionMetadata } from '../components/VersionMetadata.js';
import { useLoad } from '../components/useLoad.js';

interface TensorSpec { name: string; datatype: string; shape: number[] }
interface VersionView {
  version: string; state: string; active: boolean; served_precision: string; precision_override: string | null; size_bytes: number;
  execution_provider: string | null; fallback_reason: string | null; error: string | null; inputs: TensorSpec[]; outputs: TensorSpec[];
  placement: { workers: number; inline: boolean; runMs: number | null; inlineRunMs: number | null } | null;
  labels: Record<string, string>; metrics: Record<string, number>;
}
interface ModelView { name: string; active_version: string | null; cache_enabled: boolean; versions: VersionView[] }
interface Quantization {
  status: string;
  progress: number;
  report: null | {
    decision: string; reasons: string[]; size_ratio: number | null; speedup: number | null; agreement: number | null; cosine: number | null; unvalidated: boolean; fp32_bytes: number; int8_bytes: number | null;
    // Older reports (before the paired timing) lack these.
    speedup_interval?: [number, number] | null; timed_pairs?: number | null; degenerate?: string | null;
  };
}
interface ServingSettings { effective: Record<string, unknown>; overrides: Record<string, unknown> }

const SETTINGS_FIELDS = ['max_batch_size', 'max_queue_delay_micros', 'max_queue_size', 'timeout_micros', 'min_instances', 'max_instances', 'idle_unload_seconds', 'intra_op_threads'] as const;
/** onnxruntime's execution providers; `auto` follows the server's plan. */
const PROVIDERS = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'] as const;

/** Above this many elements a prefilled request would be megabytes of zeros: the data is left for the user to fill. */
const EXAMPLE_MAX_ELEMENTS = 10_000;

/** A zero-filled OIP request for the model's inputs (dynamic dimensions as 1), to edit and send. */
function exampleRequest(inputs: TensorSpec[]): { inputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[] } {
  return {
    inputs: inputs.map((input) => {
      const shape = input.shape.map((d) => (d < 0 ? 1 : d));
      const count = shape.reduce((a, b) => a * b, 1);
      const zero = input.datatype === 'BYTES' ? '' : input.datatype === 'BOOL' ? false : 0;
      return { name: input.name, datatype: input.datatype, shape, data: count <= EXAMPLE_MAX_ELEMENTS ? Array.from({ length: count }, () => zero) : [`${count} values, row-major: replace this`] };
    }),
  };
}

function Upload({ api, onDone }: { api: Api; onDone: () => void }) {
  const [name, setName] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string>();
  const [over, setOver] = useState(false);
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    const dropped = event.dataTransfer.files[0];
    if (dropped) choose(dropped);
  };
  const choose = (chosen: File) => {
    setFile(chosen);
    if (!name) setName(chosen.name.replace(/\.onnx$/i, '').toLowerCase().replace(/[^a-z0-9_.-]/g, '-'));
  };
  const send = async () => {
    if (!file) return;
    setError(undefined);
    setProgress(0);
    try {
      await api.upload(`/api/models/${encodeURIComponent(name)}/versions`, file, setProgress);
      setFile(null);
      setName('');
      onDone();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setProgress(null);
    }
  };
  return (
    <section className="card" aria-labelledby="upload-title">
      <h2 id="upload-title">Upload a model</h2>
      <div className={`dropzone${over ? ' over' : ''}`} onDragOver={(e) => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)} onDrop={drop}>
        <p>Drop an ONNX file here, or</p>
        <label className="button-like">Choose a file <input type="file" accept=".onnx" className="sr-only" data-testid="model-file" onChange={(e) => e.target.files?.[0] && choose(e.target.files[0])} /></label>
        {file && <p>{file.name} ({(file.size / 1024 / 1024).toFixed(2)} MB)</p>}
      </div>
      <label>Model name <input value={name} onChange={(e) => setName(e.target.value)} pattern="[a-z0-9][a-z0-9_.\-]*" required /></label>
      <button type="button" disabled={!file || !name || progress !== null} onClick={() => void send()}>Upload</button>
      {progress !== null && <progress max={1} value={progress} aria-label="Upload progress">{Math.round(progress * 100)}%</progress>}
      <ErrorText error={error} />
    </section>
  );
}

/** A measured speed-up's 95% interval and how many paired runs it took (the int8 gate, placement). */
function IntervalText({ interval, pairs, note }: { interval: [number, number]; pairs: number | null | undefined; note?: string | undefined }) {
  return <span className="speedup-interval"> (95% interval {interval[0].toFixed(3)}–{interval[1].toFixed(3)}×, {pairs} paired runs{note ? `, ${note}` : ''})</span>;
}

function QuantizationReport({ api, model, version, onChange }: { api: Api; model: string; version: VersionView; onChange: () => void }) {
  const q = useLoad(() => api.get<Quantization>(`/api/models/${model}/versions/${version.version}/quantization`), [api, model, version.version]);
  const [error, setError] = useState<string>();
  const override = async (precision: string) => {
    try {
      await api.send('PUT', `/api/models/${model}/versions/${version.version}/precision`, { precision });
      await q.reload();
      onChange(); // the select shows the version's override, which lives in the models list
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const report = q.data?.report;
  return (
    <Status loading={q.loading} error={q.error}>
      <div>
        <p>int8 candidate: {q.data?.status}{report ? `, decision ${report.decision}` : ''}</p>
        {report && (
          <ul className="plain">
            <li>Size: {(report.fp32_bytes / 1024).toFixed(0)} KB fp32{report.int8_bytes ? `, ${(report.int8_bytes / 1024).toFixed(0)} KB int8 (${report.size_ratio?.toFixed(2)}× smaller)` : ''}</li>
            <li>
              Speed-up: {report.speedup?.toFixed(3) ?? '—'}×
              {report.speedup_interval && <IntervalText interval={report.speedup_interval} pairs={report.timed_pairs} />}
              ; agreement {report.agreement?.toFixed(4) ?? '—'}; cosine {report.cosine?.toFixed(4) ?? '—'}
            </li>
            {report.degenerate && <li className="warning">{report.degenerate}</li>}
            {report.unvalidated && !report.degenerate && <li className="warning">Checked on generated inputs only: upload validation samples for a decision you can trust.</li>}
            {report.reasons.map((r) => <li key={r} className="muted">{r}</li>)}
          </ul>
        )}
        <label>Serve as
          <select value={version.precision_override ?? 'auto'} onChange={(e) => void override(e.target.value)}>
            <option value="auto">automatic (the gate decides)</option><option value="fp32">fp32</option><option value="int8">int8</option>
          </select>
        </label>
        <ErrorText error={error} />
      </div>
    </Status>
  );
}

interface Placement {
  provider_setting: string;
  placed_by_measurement: boolean;
  execution_provider: string | null;
  report: null | { provider: string; reasons: string[]; speedup: number | null; speedup_interval: [number, number] | null; timed_pairs: number | null; validation: string | null };
  decided_at: string | null;
}

/** Where `auto` runs the version and the measurement behind it; measuring again is one click. */
function PlacementReport({ api, model, version }: { api: Api; model: string; version: string }) {
  const p = useLoad(() => api.get<Placement>(`/api/models/${model}/versions/${version}/placement`), [api, model, version]);
  const [error, setError] = useState<string>();
  const [queued, setQueued] = useState(false);
  const measure = async () => {
    setError(undefined);
    try {
      await api.send('POST', `/api/models/${model}/versions/${version}/placement`);
      setQueued(true);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const report = p.data?.report;
  return (
    <Status loading={p.loading} error={p.error}>
      <div>
        <p>
          Runs on {p.data?.execution_provider ?? '—'}
          {p.data?.placed_by_measurement ? (report ? `, placed by measurement on ${p.data.decided_at}` : ', not measured yet (WebGPU not usable here, or the measurement is queued)') : ` (provider setting: ${p.data?.provider_setting ?? '—'})`}
        </p>
        {report && (
          <ul className="plain">
            <li>
              WebGPU vs CPU: {report.speedup?.toFixed(3) ?? '—'}×
              {report.speedup_interval && <IntervalText interval={report.speedup_interval} pairs={report.timed_pairs} note={report.validation === 'generated' ? 'generated inputs' : undefined} />}
            </li>
            {report.reasons.map((r) => <li key={r} className="muted">{r}</li>)}
          </ul>
        )}
        {p.data?.placed_by_measurement && <button type="button" onClick={() => void measure()}>Measure again</button>}
        {queued && <p className="muted">Queued: the result shows here once measured (reload this panel).</p>}
        <ErrorText error={error} />
      </div>
    </Status>
  );
}

function ServingSettingsForm({ api, model, cacheEnabled, onChange }: { api: Api; model: string; cacheEnabled: boolean; onChange: () => void }) {
  const settings = useLoad(() => api.get<ServingSettings>(`/api/models/${model}/settings`), [api, model]);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const save = async () => {
    setError(undefined);
    try {
      const values = Object.entries(draft).map(([k, v]) => [k, v.trim() === '' ? null : Number(v)] as const);
      const bad = values.find(([, v]) => v !== null && !Number.isInteger(v));
      if (bad) {
        setError(`${bad[0].replace(/_/g, ' ')} must be a whole number (leave it empty to use the server's default)`);
        return;
      }
      await api.send('PUT', `/api/models/${model}/settings`, Object.fromEntries(values));
      setDraft({});
      await settings.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const toggleCache = async () => {
    try {
      await api.send('PUT', `/api/models/${model}/cache`, { enabled: !cacheEnabled });
      onChange();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  // The loaded versions swap to sessions on the chosen provider as this returns (no request fails).
  const chooseProvider = async (provider: string) => {
    setError(undefined);
    try {
      await api.send('PUT', `/api/models/${model}/settings`, { provider: provider === 'auto' ? null : provider });
      await settings.reload();
      onChange();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <Status loading={settings.loading} error={settings.error}>
      <form className="settings" onSubmit={(e) => { e.preventDefault(); void save(); }}>
        {SETTINGS_FIELDS.map((field) => (
          <label key={field}>{field.replace(/_/g, ' ')}
            <input inputMode="numeric" value={draft[field] ?? String(settings.data?.effective[field] ?? '')} onChange={(e) => setDraft({ ...draft, [field]: e.target.value })} />
          </label>
        ))}
        <label>Execution provider
          <select value={String(settings.data?.overrides.provider ?? 'auto')} onChange={(e) => void chooseProvider(e.target.value)}>
            {PROVIDERS.map((p) => <option key={p} value={p}>{p === 'auto' ? 'automatic (the server\'s plan)' : p}</option>)}
          </select>
        </label>
        <button type="submit" disabled={Object.keys(draft).length === 0}>Save settings</button>
        <label className="checkbox"><input type="checkbox" checked={cacheEnabled} onChange={() => void toggleCache()} /> Response cache (repeat inputs answered from memory)</label>
        <ErrorText error={error} />
      </form>
    </Status>
  );
}

function TryIt({ api, model, inputs }: { api: Api; model: string; inputs: TensorSpec[] }) {
  const [body, setBody] = useState(() => JSON.stringify(exampleRequest(inputs), null, 1));
  const [result, setResult] = useState<{ output: string; timing: string | null; variant: string | null }>();
  const [error, setError] = useState<string>();
  const send = async () => {
    setError(undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      setError('The request is not valid JSON.');
      return;
    }
    try {
      const started = performance.now();
      const { data, response } = await api.post<unknown>(`/v2/models/${model}/infer`, parsed);
      setResult({ output: JSON.stringify(data, null, 1), timing: `${(performance.now() - started).toFixed(1)} ms round trip; server: ${response.headers.get('server-timing') ?? 'n/a'}`, variant: response.headers.get('inferbox-variant') });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const curl = `curl -k -X POST ${window.location.origin}/v2/models/${model}/infer \\\n  -H "Authorization: Bearer $API_KEY" -H 'content-type: application/json' \\\n  -d '${JSON.stringify(exampleRequest(inputs))}'`;
  return (
    <div className="try-it">
      <label htmlFor={`try-${model}`}>Request</label>
      <textarea id={`try-${model}`} rows={8} value={body} onChange={(e) => setBody(e.target.value)} spellCheck={false} />
      <button type="button" onClick={() => void send()}>Send</button>
      <ErrorText error={error} />
      {result && (
        <div role="status" aria-label="Inference result">
          <p className="muted">{result.timing}{result.variant ? `; variant ${result.variant}` : ''}</p>
          <pre data-testid="try-output">{result.output}</pre>
        </div>
      )}
      <CurlExample command={curl} />
    </div>
  );
}

function ModelPanel({ api, model, onChange }: { api: Api; model: ModelView; onChange: () => void }) {
  const [error, setError] = useState<string>();
  const [cardSaves, setCardSaves] = useState(0);
  const act = async (method: 'POST' | 'DELETE', path: string, confirmText?: string) => {
    if (confirmText && !window.confirm(confirmText)) return;
    setError(undefined);
    try {
      await api.send(method, path);
      onChange();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const active = model.versions.find((v) => v.active) ?? model.versions.at(-1);
  return (
    <section className="card" aria-labelledby={`model-${model.name}`}>
      <h2 id={`model-${model.name}`}>{model.name}</h2>
      <div className="scroll">
        <table>
          <thead><tr><th>Version</th><th>State</th><th>Precision</th><th>Size</th><th>Runs on</th><th>Labels &amp; metrics</th><th>Actions</th></tr></thead>
          <tbody>
            {model.versions.map((v) => (
              <tr key={v.version}>
                <td>{v.version}{v.active ? ' (active)' : ''}</td>
                <td>{v.state}{v.error ? `: ${v.error}` : ''}</td>
                <td>{v.served_precision}</td>
                <td>{(v.size_bytes / 1024).toFixed(0)} KB</td>
                <td>
                  {v.execution_provider ?? '—'}{v.placement ? `, ${v.placement.workers} worker(s)${v.placement.inline ? ' + inline' : ''}` : ''}
                  {v.fallback_reason && <div className="muted">{v.fallback_reason}</div>}
                </td>
                <td><VersionMetadata labels={v.labels} metrics={v.metrics} /></td>
                <td className="actions">
                  {!v.active && <button type="button" className="small" onClick={() => void act('POST', `/api/models/${model.name}/versions/${v.version}/activate`)}>Activate</button>}
                  {v.state === 'ready' || v.state === 'idle'
                    ? <button type="button" className="small" onClick={() => void act('POST', `/api/models/${model.name}/versions/${v.version}/unload`)}>Unload</button>
                    : <button type="button" className="small" onClick={() => void act('POST', `/api/models/${model.name}/versions/${v.version}/load`)}>Load</button>}
                  <ExportButtons api={api} model={model.name} version={v.version} onError={(e) => setError(e instanceof Error ? e.message : String(e))} />
                  <button type="button" className="small danger" onClick={() => void act('DELETE', `/api/models/${model.name}/versions/${v.version}`, `Delete version ${v.version} of ${model.name}?`)}>Delete</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ErrorText error={error} />
      {active && (
        <>
          <details>
            <summary>Quantization (version {active.version})</summary>
            <QuantizationReport api={api} model={model.name} version={active} onChange={onChange} />
          </details>
          <LazyDetails summary={`Placement: CPU or WebGPU (version ${active.version})`}>{() => <PlacementReport api={api} model={model.name} version={active.version} />}</LazyDetails>
          <LazyDetails summary={`Tuning: latency objective, measured candidates (version ${active.version})`}>{() => <TuningPanel api={api} model={model.name} version={active.version} onChange={onChange} />}</LazyDetails>
          <details>
            <summary>Batching, instances and cache</summary>
            <ServingSettingsForm api={api} model={model.name} cacheEnabled={model.cache_enabled} onChange={onChange} />
          </details>
          <LazyDetails summary="Model card">{() => <ModelCardEditor api={api} model={model.name} onSaved={() => setCardSaves(cardSaves + 1)} />}</LazyDetails>
          <LazyDetails summary="Predict with named features">{() => <PredictForm api={api} model={model.name} refresh={cardSaves} />}</LazyDetails>
          <LazyDetails summary="Batch prediction (CSV or JSON lines)">{() => <BatchPredict api={api} model={model.name} />}</LazyDetails>
          <LazyDetails summary="Payload logging">{() => <PayloadLogging api={api} model={model.name} />}</LazyDetails>
          <details open>
            <summary>Try it</summary>
            <TryIt api={api} model={model.name} inputs={active.inputs} />
          </details>
        </>
      )}
    </section>
  );
}

export function Models({ api }: { api: Api }) {
  const models = useLoad(() => api.get<{ models: ModelView[] }>('/api/models'), [api]);
  return (
    <>
      <h1>Models</h1>
      <Upload api={api} onDone={() => void models.reload()} />
      <Status loading={models.loading} error={models.error} onRetry={() => void models.reload()}>
        {(models.data?.models ?? []).map((m) => <ModelPanel key={m.name} api={api} model={m} onChange={() => void models.reload()} />)}
      </Status>
    </>
  );
}
