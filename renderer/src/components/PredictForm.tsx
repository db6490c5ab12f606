import { useEffect, useState } from 'react';
import type { Api } from '../api.js';
import { CurlExample } from './CurlExample.js';
import { ErrorText } from './Status.js';
import type { CardFeature, CardView } from './modelCardTypes.js';

interface Prediction { label?: string | null; score?: number; scores?: Record<string, number>; value?: number; values?: number[] }
interface PredictAnswer { predictions: Prediction[]; version: string; precision: string; variant: string | null }

function field(feature: CardFeature, value: string | boolean | File | undefined, set: (v: string | boolean | File | undefined) => void) {
  const id = `predict-${feature.name}`;
  const label = `${feature.name}${feature.description ? ` (${feature.description})` : ''}`;
  if (feature.type === 'boolean') {
    return <label className="checkbox" key={feature.name}><input id={id} type="checkbox" checked={value === true} onChange={(e) => set(e.target.checked)} />{label}</label>;
  }
  if (feature.type === 'category') {
    return (
      <label key={feature.name}>{label}
        <select id={id} value={typeof value === 'string' ? value : ''} onChange={(e) => set(e.target.value || undefined)}>
          <option value="">{feature.default !== undefined ? `(default: ${String(feature.default)})` : '(choose)'}</option>
          {(feature.values ?? []).map((v) => <option key={v}>{v}</option>)}
        </select>
      </label>
    );
  }
  if (feature.type === 'image') {
    return <label key={feature.name}>{label}<input id={id} type="file" accept="image/png,image/jpeg,image/webp" onChange={(e) => set(e.target.files?.[0])} /></label>;
  }
  const numeric = feature.type === 'number' || feature.type === 'integer';
  return (
    <label key={feature.name}>{label}
      <input id={id} type={numeric ? 'number' : 'text'} step={feature.type === 'integer' ? 1 : 'any'} placeholder={feature.default !== undefined ? `default: ${String(feature.default)}` : ''} value={typeof value === 'string' ? value : ''} onChange={(e) => set(e.target.value)} />
    </label>
  );
}

/**
 * "Try it" with named fields from the model's card: one row, sent to POST /api/predict as JSON (or
 * multipart when it has an image), answered with labels and scores; plus the curl a business app uses.
 */
export function PredictForm({ api, model, refresh }: { api: Api; model: string; refresh: number }) {
  const [view, setView] = useState<CardView>();
  const [missing, setMissing] = useState<string>();
  const [values, setValues] = useState<Record<string, string | boolean | File | undefined>>({});
  const [answer, setAnswer] = useState<PredictAnswer>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    api.get<CardView>(`/api/models/${model}/card`).then((v) => { setView(v); setMissing(undefined); }, (e: unknown) => setMissing(e instanceof Error ? e.message : String(e)));
  }, [api, model, refresh]);

  if (!view) return <p className="muted">{missing ?? 'Loading the card…'}</p>;
  const features = view.card.features;
  const hasImage = features.some((f) => f.type === 'image');

  const send = async () => {
    setError(undefined);
    setAnswer(undefined);
    try {
      if (hasImage) {
        const form = new FormData();
        for (const f of features) {
          const v = values[f.name];
          if (v instanceof File) form.append(f.name, v, v.name);
          else if (v !== undefined && v !== '') form.append(f.name, String(v));
        }
        setAnswer(await api.postRaw<PredictAnswer>(`/api/predict/${model}`, form));
        return;
      }
      const row: Record<string, unknown> = {};
      for (const f of features) {
        const v = values[f.name];
        if (v === undefined || v === '') continue;
        row[f.name] = f.type === 'number' || f.type === 'integer' ? Number(v) : v;
      }
      setAnswer((await api.post<PredictAnswer>(`/api/predict/${model}`, { rows: [row] })).data);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const example = Object.fromEntries(features.filter((f) => f.type !== 'image').map((f) => [f.name, f.default ?? (f.type === 'category' ? f.values?.[0] : f.type === 'boolean' ? false : f.type === 'text' ? '' : 0)]));
  const curl = hasImage
    ? `curl -k ${window.location.origin}/api/predict/${model} -H "Authorization: Bearer $API_KEY" -F ${features.find((f) => f.type === 'image')!.name}=@picture.png`
    : `curl -k ${window.location.origin}/api/predict/${model} -H "Authorization: Bearer $API_KEY" \\\n  -H 'content-type: application/json' -d '${JSON.stringify({ rows: [example] })}'`;
  const prediction = answer?.predictions[0];
  return (
    <div className="predict-form">
      {view.card.description && <p>{view.card.description}</p>}
      <div className="inline-form">{features.map((f) => field(f, values[f.name], (v) => setValues({ ...values, [f.name]: v })))}</div>
      <button type="button" onClick={() => void send()}>Predict</button>
      <ErrorText error={error} />
      {prediction && (
        <div role="status" aria-label="Prediction">
          {'label' in prediction && <p><strong data-testid="predict-label">{prediction.label ?? '(no decision)'}</strong> — score {prediction.score?.toFixed(4)}</p>}
          {prediction.scores && <table><tbody>{Object.entries(prediction.scores).map(([label, score]) => <tr key={label}><td>{label}</td><td>{score.toFixed(4)}</td></tr>)}</tbody></table>}
          {prediction.value !== undefined && <p data-testid="predict-label">{prediction.value}</p>}
          {prediction.values && <p data-testid="predict-label">{prediction.values.join(', ')}</p>}
          <p className="muted">version {answer.version}, {answer.precision}{answer.variant ? `, variant ${answer.variant}` : ''}</p>
        </div>
      )}
      <CurlExample command={curl} />
    </div>
  );
}
