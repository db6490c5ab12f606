import { useEffect, useState } from 'react';
import type { Api } from '../api.js';
import { ErrorText } from './Status.js';

interface JobView { id: string; state: string; total: number; done: number; failed: number; error: string | null }

const POLL_MS = 500;

/**
 * A prediction job from a file (CSV with the card's feature names as header, or JSON lines of
 * rows): submitted to /api/jobs, followed with a progress bar, its results downloaded as CSV.
 */
export function BatchPredict({ api, model }: { api: Api; model: string }) {
  const [job, setJob] = useState<JobView>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    if (!job || (job.state !== 'queued' && job.state !== 'running')) return undefined;
    const timer = setTimeout(() => {
      api.get<JobView>(`/api/jobs/${job.id}`).then(setJob, (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [api, job]);

  const submit = async (file: File | undefined) => {
    if (!file) return;
    setError(undefined);
    setJob(undefined);
    const type = file.name.endsWith('.csv') ? 'text/csv' : 'application/x-ndjson';
    try {
      setJob(await api.postRaw<JobView>(`/api/jobs?model=${encodeURIComponent(model)}&kind=predict`, file, type));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const download = async () => {
    if (!job) return;
    try {
      const url = URL.createObjectURL(await api.download(`/api/jobs/${job.id}/results?format=csv`));
      const link = document.createElement('a');
      link.href = url;
      link.download = `${job.id}-predictions.csv`;
      link.click();
      URL.revokeObjectURL(url);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <div className="batch-predict">
      <label>Rows file (CSV with the feature names as header, or JSON lines)
        <input type="file" accept=".csv,.jsonl,.ndjson,text/csv" onChange={(e) => void submit(e.target.files?.[0])} />
      </label>
      <ErrorText error={error} />
      {job && (
        <div role="status" aria-label="Prediction job">
          <progress aria-label="Job progress" max={job.total} value={job.done} />
          <p>{job.done} / {job.total} rows, {job.failed} failed — {job.state}{job.error ? `: ${job.error}` : ''}</p>
          {job.state === 'succeeded' && <button type="button" onClick={() => void download()}>Download results (CSV)</button>}
        </div>
      )}
    </div>
  );
}
