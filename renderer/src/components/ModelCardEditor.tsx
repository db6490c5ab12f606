import { useEffect, useState } from 'react';
import { ApiError, type Api } from '../api.js';
import { ErrorText } from './Status.js';
import type { CardFeature, CardView, ModelCard } from './modelCardTypes.js';

const TYPES: CardFeature['type'][] = ['number', 'integer', 'boolean', 'category', 'text', 'image'];
const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

/** A default typed as its feature takes it (form fields are text). */
function typedDefault(feature: CardFeature, text: string): CardFeature['default'] {
  if (text === '') return undefined;
  if (feature.type === 'number' || feature.type === 'integer') return Number(text);
  if (feature.type === 'boolean') return text === 'true';
  return text;
}

/**
 * Edits a model's card: starts from the saved card, or from the one inferred from the ONNX file
 * (with what is left to fill in); the common fields as a form, everything (tensor mapping, image
 * settings) in the JSON below it. Saving shows the server's reasons when the card does not fit.
 */
export function ModelCardEditor({ api, model, onSaved }: { api: Api; model: string; onSaved: () => void }) {
  const [card, setCard] = useState<ModelCard>();
  const [json, setJson] = useState('');
  const [notes, setNotes] = useState<string[]>([]);
  const [origin, setOrigin] = useState('');
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState<string>();

  const show = (next: ModelCard) => {
    setCard(next);
    setJson(JSON.stringify(next, null, 1));
  };

  const load = async (inferred: boolean) => {
    setError(undefined);
    setSaved(undefined);
    try {
      if (!inferred) {
        const view = await api.get<CardView>(`/api/models/${model}/card`);
        setNotes([]);
        setOrigin(`Saved card (${view.scope === 'model' ? 'for the model' : `version ${view.version}'s own`}), ${view.updated_at}${view.updated_by ? ` by ${view.updated_by}` : ''}`);
        show(view.card);
        return;
      }
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) {
        setError(e instanceof Error ? e.message : String(e));
        return;
      }
    }
    try {
      const start = await api.get<{ version: string; card: ModelCard; notes: string[] }>(`/api/models/${model}/card/inferred`);
      setNotes(start.notes);
      setOrigin(`Inferred from version ${start.version}'s ONNX file: a starting point, not saved yet`);
      show(start.card);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  useEffect(() => { void load(false); }, [api, model]);

  const change = (next: Partial<ModelCard>) => card && show({ ...card, ...next });
  const changeFeature = (i: number, next: Partial<CardFeature>) => card && change({ features: card.features.map((f, k) => (k === i ? { ...f, ...next } : f)) });

  const save = async () => {
    setError(undefined);
    setSaved(undefined);
    let body: unknown;
    try {
      body = JSON.parse(json);
    } catch {
      setError('The card JSON is not valid JSON.');
      return;
    }
    try {
      const view = await api.send<CardView>('PUT', `/api/models/${model}/card`, body);
      show(view.card);
      setNotes([]);
      setOrigin(`Saved card (for the model), ${view.updated_at}`);
      setSaved('Saved: the card fits the model.');
      onSaved();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  if (!card) return <ErrorText error={error} />;
  return (
    <div className="card-editor">
      <p className="muted">{origin}</p>
      {notes.length > 0 && <ul aria-label="To fill in">{notes.map((n) => <li key={n}>{n}</li>)}</ul>}
      <label>Description<input value={card.description} onChange={(e) => change({ description: e.target.value })} /></label>
      <label>Owner<input value={card.owner} onChange={(e) => change({ owner: e.target.value })} /></label>
      <label>Intended use<input value={card.intended_use} onChange={(e) => change({ intended_use: e.target.value })} /></label>
      <div className="scroll">
        <table>
          <thead><tr><th>Feature</th><th>Type</th><th>Allowed values</th><th>Default</th><th>Input[column]</th></tr></thead>
          <tbody>
            {card.features.map((f, i) => (
              <tr key={i}>
                <td><input aria-label={`Feature ${i + 1} name`} value={f.name} onChange={(e) => changeFeature(i, { name: e.target.value })} /></td>
                <td>
                  <select aria-label={`Feature ${i + 1} type`} value={f.type} onChange={(e) => changeFeature(i, { type: e.target.value as CardFeature['type'] })}>
                    {TYPES.map((t) => <option key={t}>{t}</option>)}
                  </select>
                </td>
                <td>{f.type === 'category' ? <input aria-label={`Feature ${i + 1} values`} value={(f.values ?? []).join(', ')} onChange={(e) => changeFeature(i, { values: list(e.target.value) })} /> : '—'}</td>
                <td>{f.type === 'image' ? '—' : <input aria-label={`Feature ${i + 1} default`} value={f.default === undefined ? '' : String(f.default)} onChange={(e) => changeFeature(i, { default: typedDefault(f, e.target.value) })} />}</td>
                <td>{f.input}[{f.column}]</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <label>Labels (comma-separated, in score order; none for a regression)
        <input value={(card.output.labels ?? []).join(', ')} onChange={(e) => change({ output: { ...card.output, labels: list(e.target.value).length > 0 ? list(e.target.value) : undefined } })} />
      </label>
      <label>Thresholds (label=score, comma-separated)
        <input
          defaultValue={Object.entries(card.output.thresholds).map(([k, v]) => `${k}=${v}`).join(', ')}
          onBlur={(e) => change({ output: { ...card.output, thresholds: Object.fromEntries(list(e.target.value).map((pair) => { const [k, v] = pair.split('='); return [k!.trim(), Number(v)]; })) } })}
        />
      </label>
      <details>
        <summary>The whole card as JSON (tensor mapping, image size and normalization)</summary>
        <textarea aria-label="Card JSON" rows={14} value={json} onChange={(e) => setJson(e.target.value)} spellCheck={false} />
      </details>
      <div className="actions">
        <button type="button" onClick={() => void save()}>Save card</button>
        <button type="button" className="small" onClick={() => void load(true)}>Start from the ONNX file</button>
      </div>
      <ErrorText error={error} />
      {saved && <p role="status">{saved}</p>}
    </div>
  );
}
