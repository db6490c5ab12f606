import { useState, type FormEvent } from 'react';
import { Bar, BarChart, CartesianGrid, ErrorBar, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Api } from '../api.js';
import { ErrorText, Status } from '../components/Status.js';
import { useLoad } from '../components/useLoad.js';

interface ExperimentView {
  id: string; model: string; name: string; status: string; enabled: boolean;
  variants: { name: string; version: string; weight: number }[];
  canary_step: number | null; end_reason: string | null; created_at: string;
}
interface Estimate { units: number; mean: number; lower: number | null; upper: number | null }
interface Results {
  experiment: ExperimentView;
  variants: { name: string; version: string; weight: number; units: number; requests: number; errors: number; error_rate: number | null; latency_ms: { p50: number | null; p95: number | null; p99: number | null } }[];
  sample_ratio_mismatch: { checked: boolean; pValue: number; mismatch: boolean; warning: string | null };
  metrics: { name: string; type: string; primary: boolean; comparisons: { variant: string; control: Estimate; treatment: Estimate; difference: { estimate: number; lower: number | null; upper: number | null }; relativeLift: { estimate: number; lower: number | null; upper: number | null } | null; pValue: number; sequential: { lower: number | null; upper: number | null; pValue: number } }[] }[];
  shadow: { version: string; requests: number; errors: number; agreement_rate: number | null; latency_ms: { p50: number | null } } | null;
  guardrails: { guardrail: string; variant: string; breached: boolean; ready: boolean; detail: string }[];
  canary: { step: number; treatment_percent: number; steps: number[] } | null;
}
interface ModelView { name: string; active_version: string | null; versions: { version: string; state: string }[] }

const fmt = (v: number | null | undefined, digits = 4) => (v === null || v === undefined ? '—' : Number(v.toFixed(digits)).toString());
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(2)}%`);

function CreateForm({ api, onCreated }: { api: Api; onCreated: () => void }) {
  const models = useLoad(() => api.get<{ models: ModelView[] }>('/api/models'), [api]);
  const [model, setModel] = useState('');
  const [name, setName] = useState('');
  const [treatment, setTreatment] = useState('');
  const [weight, setWeight] = useState('50');
  const [unitHeader, setUnitHeader] = useState('x-unit-id');
  const [targeting, setTargeting] = useState('');
  const [shadow, setShadow] = useState('');
  const [shadowPercent, setShadowPercent] = useState('10');
  const [ramp, setRamp] = useState('');
  const [metric, setMetric] = useState('converted');
  const [error, setError] = useState<string>();
  const chosen = models.data?.models.find((m) => m.name === model);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    if (!chosen?.active_version) {
      setError('Pick a model that has an active version (it is the control).');
      return;
    }
    let rules: unknown;
    try {
      rules = targeting.trim() ? JSON.parse(targeting) : undefined;
    } catch {
      setError('Targeting rules are not valid JSON.');
      return;
    }
    const steps = ramp.split(/[\s,]+/).filter(Boolean).map(Number);
    const share = Number(weight) / 100;
    try {
      await api.send('POST', '/api/experiments', {
        name,
        model,
        variants: [{ name: 'control', version: chosen.active_version }, { name: 'treatment', version: treatment }],
        ...(steps.length > 0 ? { canary: { steps } } : { weights: [1 - share, share] }),
        unit_id: { header: unitHeader },
        ...(rules ? { targeting: rules } : {}),
        ...(shadow ? { shadow: { version: shadow, percent: Number(shadowPercent) } } : {}),
        ...(metric ? { metrics: [{ name: metric, type: 'binary' }], primary_metric: metric } : {}),
      });
      setName('');
      onCreated();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const others = chosen?.versions.filter((v) => v.version !== chosen.active_version) ?? [];
  return (
    <form className="card settings" onSubmit={(e) => void submit(e)} aria-labelledby="new-experiment">
      <h2 id="new-experiment">New experiment</h2>
      <Status loading={models.loading} error={models.error}>
        <label>Name <input value={name} onChange={(e) => setName(e.target.value)} required /></label>
        <label htmlFor="experiment-model">Model</label>
        <select id="experiment-model" value={model} onChange={(e) => { setModel(e.target.value); setTreatment(''); setShadow(''); }} required>
            <option value="">choose…</option>
          {models.data?.models.map((m) => <option key={m.name} value={m.name}>{m.name}</option>)}
        </select>
        {chosen && <p className="muted">Control: version {chosen.active_version ?? '(none active)'} (the active version)</p>}
        <label htmlFor="experiment-treatment">Treatment version</label>
        <select id="experiment-treatment" value={treatment} onChange={(e) => setTreatment(e.target.value)} required>
          <option value="">choose…</option>
          {others.map((v) => <option key={v.version} value={v.version}>{v.version} ({v.state})</option>)}
        </select>
        <label>Treatment share (%) <input type="number" min={1} max={99} value={weight} onChange={(e) => setWeight(e.target.value)} disabled={ramp.trim() !== ''} /></label>
        <label>Canary ramp (treatment % steps, e.g. 5 25 50 100) <input value={ramp} onChange={(e) => setRamp(e.target.value)} /></label>
        <label>Unit id header <input value={unitHeader} onChange={(e) => setUnitHeader(e.target.value)} required /></label>
        <label>Targeting rules (JSON, optional) <textarea rows={3} value={targeting} onChange={(e) => setTargeting(e.target.value)} placeholder='{"attribute": "header.x-country", "op": "in", "value": ["de", "at"]}' /></label>
        <label htmlFor="experiment-shadow">Shadow version (optional)</label>
        <select id="experiment-shadow" value={shadow} onChange={(e) => setShadow(e.target.value)}>
          <option value="">none</option>
          {others.filter((v) => v.version !== treatment).map((v) => <option key={v.version} value={v.version}>{v.version}</option>)}
        </select>
        {shadow && <label>Shadow share (%) <input type="number" min={1} max={100} value={shadowPercent} onChange={(e) => setShadowPercent(e.target.value)} /></label>}
        <label>Primary metric (binary, sent to /api/feedback) <input value={metric} onChange={(e) => setMetric(e.target.value)} pattern="[a-z][a-z0-9_]*" /></label>
        <p className="muted">Guardrails are on by default: circuit breaker, error rate and p95 latency against control roll the experiment back by themselves.</p>
        <button type="submit">Create draft</button>
        <ErrorText error={error} />
      </Status>
    </form>
  );
}

function ResultsView({ api, id }: { api: Api; id: string }) {
  const results = useLoad(() => api.get<Results>(`/api/experiments/${id}/results`), [api, id], 5000);
  const r = results.data;
  return (
    <Status loading={results.loading} error={results.error} onRetry={() => void results.reload()}>
      {r && (
        <div className="results" aria-label="Experiment results">
          {r.sample_ratio_mismatch.warning && <p role="alert" className="warning">Sample ratio mismatch: {r.sample_ratio_mismatch.warning}</p>}
          {r.canary && <p>Canary step {r.canary.step + 1} of {r.canary.steps.length}: treatment at {r.canary.treatment_percent}%</p>}
          <table>
            <thead><tr><th>Variant</th><th>Version</th><th>Weight</th><th>Units</th><th>Requests</th><th>Error rate</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th></tr></thead>
            <tbody>{r.variants.map((v) => <tr key={v.name}><td>{v.name}</td><td>{v.version}</td><td>{pct(v.weight)}</td><td>{v.units}</td><td>{v.requests}</td><td>{pct(v.error_rate)}</td><td>{fmt(v.latency_ms.p50, 2)}</td><td>{fmt(v.latency_ms.p95, 2)}</td><td>{fmt(v.latency_ms.p99, 2)}</td></tr>)}</tbody>
          </table>
          {r.metrics.map((m) => (
            <section key={m.name} aria-label={`Metric ${m.name}`}>
              <h3>{m.name}{m.primary ? ' (primary)' : ''}</h3>
              <figure className="chart">
                <figcaption>Mean per variant with 95% interval</figcaption>
                <ResponsiveContainer width="100%" height={180}>
                  <BarChart data={m.comparisons.length ? [
                    { variant: r.variants[0]?.name ?? 'control', mean: m.comparisons[0]!.control.mean, error: [m.comparisons[0]!.control.mean - (m.comparisons[0]!.control.lower ?? m.comparisons[0]!.control.mean), (m.comparisons[0]!.control.upper ?? m.comparisons[0]!.control.mean) - m.comparisons[0]!.control.mean] },
                    ...m.comparisons.map((c) => ({ variant: c.variant, mean: c.treatment.mean, error: [c.treatment.mean - (c.treatment.lower ?? c.treatment.mean), (c.treatment.upper ?? c.treatment.mean) - c.treatment.mean] })),
                  ] : []}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis dataKey="variant" />
                    <YAxis />
                    <Tooltip />
                    <Bar dataKey="mean" fill="#2563eb" isAnimationActive={false}>
                      <ErrorBar dataKey="error" width={8} stroke="#111" />
                    </Bar>
                  </BarChart>
                </ResponsiveContainer>
              </figure>
              <table>
                <thead><tr><th>Variant</th><th>Control</th><th>Treatment</th><th>Difference (95%)</th><th>Lift</th><th>p (one look)</th><th>Always-valid interval</th><th>Always-valid p</th></tr></thead>
                <tbody>{m.comparisons.map((c) => (
                  <tr key={c.variant}>
                    <td>{c.variant}</td><td>{fmt(c.control.mean)} (n={c.control.units})</td><td>{fmt(c.treatment.mean)} (n={c.treatment.units})</td>
                    <td>{fmt(c.difference.estimate)} [{fmt(c.difference.lower)}, {fmt(c.difference.upper)}]</td>
                    <td>{c.relativeLift ? `${pct(c.relativeLift.estimate)} [${pct(c.relativeLift.lower)}, ${pct(c.relativeLift.upper)}]` : '—'}</td>
                    <td>{fmt(c.pValue)}</td><td>[{fmt(c.sequential.lower)}, {fmt(c.sequential.upper)}]</td><td>{fmt(c.sequential.pValue)}</td>
                  </tr>
                ))}</tbody>
              </table>
            </section>
          ))}
          {r.shadow && <p>Shadow version {r.shadow.version}: {r.shadow.requests} copies, {r.shadow.errors} failed, agreement {pct(r.shadow.agreement_rate)}, p50 {fmt(r.shadow.latency_ms.p50, 2)} ms</p>}
          {r.guardrails.length > 0 && (
            <ul className="plain" aria-label="Guardrails">
              {r.guardrails.map((g) => <li key={`${g.guardrail}-${g.variant}`} className={g.breached ? 'error' : g.ready ? '' : 'muted'}>{g.breached ? '✗ breached' : g.ready ? '✓ passing' : '… waiting'} {g.guardrail} ({g.variant}): {g.detail}</li>)}
            </ul>
          )}
        </div>
      )}
    </Status>
  );
}

export function Experiments({ api }: { api: Api }) {
  // Polled: a guardrail can roll an experiment back at any moment.
  const list = useLoad(() => api.get<{ experiments: ExperimentView[] }>('/api/experiments'), [api], 5000);
  const [open, setOpen] = useState<string>();
  const [error, setError] = useState<string>();
  const act = async (id: string, action: string, body?: unknown) => {
    setError(undefined);
    try {
      if (action === 'flag') await api.send('PUT', `/api/experiments/${id}/flag`, body);
      else await api.send('POST', `/api/experiments/${id}/${action}`, body);
      await list.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <>
      <h1>Experiments</h1>
      <CreateForm api={api} onCreated={() => void list.reload()} />
      <ErrorText error={error} />
      <Status loading={list.loading} error={list.error} onRetry={() => void list.reload()}>
        {(list.data?.experiments ?? []).map((e) => (
          <section key={e.id} className="card" aria-labelledby={`exp-${e.id}`}>
            <h2 id={`exp-${e.id}`}>{e.name} <small className="muted">{e.model} · {e.status}{e.enabled ? '' : ' · switched off'}</small></h2>
            <p>{e.variants.map((v) => `${v.name} (v${v.version}, ${pct(v.weight)})`).join(' vs ')}</p>
            {e.end_reason && <p className="muted">{e.end_reason}</p>}
            <div className="actions">
              {e.status === 'draft' && <button type="button" onClick={() => void act(e.id, 'start')}>Start</button>}
              {e.status === 'running' && <button type="button" onClick={() => void act(e.id, 'pause')}>Pause</button>}
              {e.status === 'paused' && <button type="button" onClick={() => void act(e.id, 'resume')}>Resume</button>}
              {(e.status === 'running' || e.status === 'paused') && <button type="button" onClick={() => void act(e.id, 'stop')}>Stop</button>}
              {e.status === 'running' && <button type="button" className="danger" onClick={() => void act(e.id, 'flag', { enabled: !e.enabled })}>{e.enabled ? 'Kill switch: all to control' : 'Switch back on'}</button>}
              {['running', 'paused', 'stopped'].includes(e.status) && e.variants.slice(1).map((v) => (
                <button key={v.name} type="button" onClick={() => { if (window.confirm(`Make ${v.name} (version ${v.version}) the active version?`)) void act(e.id, 'promote', { variant: v.name }); }}>Promote {v.name}</button>
              ))}
              <button type="button" onClick={() => setOpen(open === e.id ? undefined : e.id)} aria-expanded={open === e.id}>{open === e.id ? 'Hide results' : 'Results'}</button>
            </div>
            {open === e.id && <ResultsView api={api} id={e.id} />}
          </section>
        ))}
      </Status>
    </>
  );
}
