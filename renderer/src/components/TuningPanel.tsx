import { useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceDot, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Api } from '../api.js';
import { ErrorText, Status } from './Status.js';
import { useLoad } from './useLoad.js';

interface CurvePoint { concurrency: number; rps: number; p50_ms: number; p95_ms: number; errors: number }
interface Candidate {
  id: string; description: string; precision: string; provider: string; min_instances: number; max_instances: number; intra_op_threads: number; max_batch_size: number; max_queue_delay_micros: number;
  measured: boolean; error: string | null; curve: CurvePoint[]; capacity: { rps: number; concurrency: number; p95_ms: number } | null;
  /** The second measurement (the current serving and the provisional choice), which the choice rests on. */
  confirmation: { curve: CurvePoint[]; error: string | null; capacity: { rps: number; concurrency: number; p95_ms: number } | null } | null;
}
/** GET /api/models/{m}/versions/{v}/tuning (server/protocol/routes/tuningRoutes.ts). */
interface Tuning {
  status: 'none' | 'running' | 'done' | 'failed' | 'cancelled';
  objective_p95_ms?: number | null;
  budget_seconds?: number;
  started_at?: string;
  finished_at?: string | null;
  error?: string | null;
  progress?: { measured: number; planned: number };
  skipped?: { id: string; description: string; reason: string }[];
  candidates?: Candidate[];
  choice?: { id: string; by: string; reason: string; confirmed: boolean | null; capacity: { rps: number; concurrency: number; p95_ms: number } | null } | null;
  predicted_capacity_rps?: number | null;
  applied?: { candidate: string; at: string } | null;
}
interface Settings { effective: { latency_objective_p95_ms: number | null; tuning_auto_apply: boolean; adaptive_remediation: boolean } }

/** One colour per candidate line, in plan order (the current serving first). */
const COLOURS = ['#444', '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

const settingsText = (c: Candidate) =>
  `${c.precision}, ${c.provider}, ${c.min_instances === c.max_instances ? c.min_instances : `${c.min_instances}-${c.max_instances}`} instance(s) × ${c.intra_op_threads} thread(s), batch ≤ ${c.max_batch_size}${c.max_queue_delay_micros ? `, wait ${c.max_queue_delay_micros} µs` : ''}`;

/** Requests/s (or p95) by concurrency for every measured candidate: one row per concurrency, one column per candidate. */
function chartRows(candidates: Candidate[], value: (p: CurvePoint) => number): Record<string, number>[] {
  const levels = [...new Set(candidates.flatMap((c) => c.curve.map((p) => p.concurrency)))].sort((a, b) => a - b);
  return levels.map((concurrency) => {
    const row: Record<string, number> = { concurrency };
    for (const c of candidates) {
      const point = c.curve.find((p) => p.concurrency === concurrency);
      if (point) row[c.id] = Number(value(point).toFixed(2));
    }
    return row;
  });
}

function Curves({ tuning }: { tuning: Tuning }) {
  const measured = (tuning.candidates ?? []).filter((c) => c.curve.length > 0);
  if (measured.length === 0) return null;
  const chosen = tuning.choice?.capacity ? tuning.choice : null;
  const objective = tuning.objective_p95_ms ?? null;
  const lines = measured.map((c, i) => <Line key={c.id} type="monotone" dataKey={c.id} stroke={COLOURS[i % COLOURS.length]} strokeWidth={c.id === tuning.choice?.id ? 3 : 1.5} dot isAnimationActive={false} />);
  return (
    <div className="charts" aria-label="tuning curves">
      <figure>
        <figcaption>Requests/s by concurrency{chosen ? ' (the dot: the chosen point)' : ''}</figcaption>
        <ResponsiveContainer width="100%" height={220}>
          <LineChart data={chartRows(measured, (p) => p.rps)}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="concurrency" />
            <YAxis />
            <Tooltip />
            <Legend />
            {lines}
            {chosen?.capacity && <ReferenceDot x={chosen.capacity.concurrency} y={Number(chosen.capacity.rps.toFixed(2))} r={6} fill="none" stroke="#000" />}
          </LineChart>
        </ResponsiveContainer>
      </figure>
      <figure>
        <figcaption>p95 latency (ms) by concurrency{objective !== null ? `; the line: the objective, ${objective} ms` : ''}</figcaption>
        <ResponsiveContainer width="100%" height={220}>
          <LineChart data={chartRows(measured, (p) => p.p95_ms)}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="concurrency" />
            <YAxis />
            <Tooltip />
            {lines}
            {objective !== null && <ReferenceLine y={objective} stroke="#d62728" strokeDasharray="4 4" />}
          </LineChart>
        </ResponsiveContainer>
      </figure>
    </div>
  );
}

/**
 * The built-in tuner for a version: the latency objective and auto-apply, a run (start, progress,
 * cancel), every candidate's curves with the chosen point, and apply or revert in one click.
 */
export function TuningPanel({ api, model, version, onChange }: { api: Api; model: string; version: string; onChange: () => void }) {
  const base = `/api/models/${model}/versions/${version}/tuning`;
  const tuning = useLoad(() => api.get<Tuning>(base), [api, base], 2000);
  const settings = useLoad(() => api.get<Settings>(`/api/models/${model}/settings`), [api, model]);
  const [objective, setObjective] = useState<string>();
  const [budget, setBudget] = useState('60');
  const [error, setError] = useState<string>();
  const act = async (method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) => {
    setError(undefined);
    try {
      await api.send(method, path, body);
      await Promise.all([tuning.reload(), settings.reload()]);
      onChange();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const t = tuning.data;
  const effective = settings.data?.effective;
  const objectiveText = objective ?? (effective?.latency_objective_p95_ms?.toString() ?? '');
  const running = t?.status === 'running';
  return (
    <Status loading={tuning.loading && !t} error={tuning.error}>
      <div>
        <form onSubmit={(e) => { e.preventDefault(); const v = objectiveText.trim(); void act('PUT', `/api/models/${model}/settings`, { latency_objective_p95_ms: v === '' ? null : Number(v) }); setObjective(undefined); }}>
          <label>
            Latency objective, p95 (ms; empty: none, the tuner then picks the lowest latency at one request)
            <input type="number" min="0" step="any" value={objectiveText} onChange={(e) => setObjective(e.target.value)} />
          </label>
          <button type="submit">Save objective</button>
          <label>
            <input type="checkbox" checked={effective?.tuning_auto_apply ?? false} onChange={(e) => void act('PUT', `/api/models/${model}/settings`, { tuning_auto_apply: e.target.checked })} />
            Apply the tuner's choice by itself when a run finishes
          </label>
          <label>
            <input type="checkbox" checked={effective?.adaptive_remediation ?? false} onChange={(e) => void act('PUT', `/api/models/${model}/settings`, { adaptive_remediation: e.target.checked })} />
            Adaptive remediation: when p95 stays above the objective, switch to a larger measured candidate, and back when the load falls
          </label>
        </form>
        <p>
          {t?.status === 'none' && 'Never tuned. '}
          {running && `Tuning: ${t.progress?.measured ?? 0} of ${t.progress?.planned ?? 0} candidates measured (at most ${t.budget_seconds} s, in the background). `}
          {t && t.status !== 'none' && !running && `Last run ${t.status}${t.finished_at ? ` at ${new Date(t.finished_at).toLocaleString()}` : ''}. `}
          {t?.error && <span className="warning">{t.error}</span>}
        </p>
        {running ? (
          <button type="button" onClick={() => void act('DELETE', base)}>Cancel</button>
        ) : (
          <span>
            <label>
              Time budget{' '}
              <select value={budget} onChange={(e) => setBudget(e.target.value)}>
                {['30', '60', '120', '300'].map((s) => <option key={s} value={s}>{s} s</option>)}
              </select>
            </label>{' '}
            <button type="button" onClick={() => void act('POST', base, { budget_seconds: Number(budget) })}>Tune now</button>
          </span>
        )}
        {t?.choice && (
          <p>
            <strong>Choice: {t.choice.id}</strong>: {t.choice.reason}.
            {t.predicted_capacity_rps !== null && t.predicted_capacity_rps !== undefined && ` Predicted capacity ${t.predicted_capacity_rps} requests/s.`}
            {t.applied ? ` Applied: ${t.applied.candidate} (${new Date(t.applied.at).toLocaleString()}).` : ''}
          </p>
        )}
        {t && <Curves tuning={t} />}
        {(t?.candidates?.length ?? 0) > 0 && (
          <table>
            <thead>
              <tr><th>Candidate</th><th>Settings</th><th>Capacity within the objective</th><th>Measured again</th><th>p95 at 1 request</th><th /></tr>
            </thead>
            <tbody>
              {t!.candidates!.map((c) => (
                <tr key={c.id} className={c.id === t!.choice?.id ? 'chosen' : undefined}>
                  <td>{c.id}{c.id === t!.choice?.id ? ' (chosen)' : ''}<div className="muted">{c.description}</div></td>
                  <td>{settingsText(c)}</td>
                  <td>{c.error ? <span className="warning">{c.error}</span> : !c.measured ? 'not measured' : c.capacity ? `${Math.round(c.capacity.rps)} requests/s at ${c.capacity.concurrency} concurrent (p95 ${c.capacity.p95_ms.toFixed(1)} ms)` : t!.objective_p95_ms ? 'never within it' : '—'}</td>
                  <td>{c.confirmation ? (c.confirmation.error ?? (c.confirmation.capacity ? `${Math.round(c.confirmation.capacity.rps)} requests/s` : 'never within it')) : '—'}</td>
                  <td>{c.curve[0] ? `${c.curve[0].p95_ms.toFixed(2)} ms` : '—'}</td>
                  <td>{!running && c.measured && !c.error && t!.applied?.candidate !== c.id && <button type="button" onClick={() => void act('POST', `${base}/apply`, { candidate: c.id })}>Apply</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {(t?.skipped?.length ?? 0) > 0 && <ul className="plain muted">{t!.skipped!.map((s) => <li key={s.id}>{s.id} left out: {s.reason}</li>)}</ul>}
        {t?.applied && <button type="button" onClick={() => void act('POST', `${base}/revert`)}>Revert to the settings before the apply</button>}
        <ErrorText error={error} />
      </div>
    </Status>
  );
}
