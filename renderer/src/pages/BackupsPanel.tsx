import { useState } from 'react';
import type { Api } from '../api.js';
import { ErrorText, Status } from '../components/Status.js';
import { useLoad } from '../components/useLoad.js';

interface BackupList { directory: string; backups: { name: string; size_bytes: number; created_at: string; reason: string }[] }

const REASONS: Record<string, string> = { manual: 'made by hand', scheduled: 'scheduled', 'pre-migration': 'before an upgrade', 'pre-restore': 'before a restore' };
const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

/** Backups of the data: the list, one made now, a download. Restoring runs on the stopped server (`npm run restore -- FILE`). */
export function BackupsPanel({ api }: { api: Api }) {
  const list = useLoad(() => api.get<BackupList>('/api/backups'), [api]);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();

  const backUpNow = async () => {
    setBusy(true);
    setError(undefined);
    setMessage(undefined);
    try {
      const made = await api.send<{ name: string; size_bytes: number }>('POST', '/api/backup');
      setMessage(`Backed up: ${made.name} (${megabytes(made.size_bytes)}).`);
      await list.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const download = async (name: string) => {
    setError(undefined);
    try {
      const url = URL.createObjectURL((await api.getBlob(`/api/backups/${encodeURIComponent(name)}`)).blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000); // after the browser has started the download
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <section className="card" aria-labelledby="backups-title">
      <h2 id="backups-title">Backups</h2>
      <p className="muted">
        Each backup holds the database (models, keys as hashes, settings, logs), every model file and the TLS pair, so keep it as
        safe as this server. Restore one on the stopped server with <code>npm run restore -- FILE</code>.
      </p>
      <button type="button" onClick={() => void backUpNow()} disabled={busy}>{busy ? 'Backing up…' : 'Back up now'}</button>
      {message && <p role="status">{message}</p>}
      <ErrorText error={error} />
      <Status loading={list.loading} error={list.error} onRetry={() => void list.reload()}>
        {list.data && (
          <>
            <p className="muted">Folder: <code>{list.data.directory}</code></p>
            {list.data.backups.length === 0 ? <p>No backups yet.</p> : (
              <table>
                <thead><tr><th>Made</th><th>Kind</th><th>Size</th><th /></tr></thead>
                <tbody>
                  {list.data.backups.map((b) => (
                    <tr key={b.name}>
                      <td>{new Date(b.created_at).toLocaleString()}</td>
                      <td>{REASONS[b.reason] ?? b.reason}</td>
                      <td>{megabytes(b.size_bytes)}</td>
                      <td><button type="button" onClick={() => void download(b.name)} aria-label={`Download ${b.name}`}>Download</button></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </Status>
    </section>
  );
}
