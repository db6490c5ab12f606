import { useState } from 'react';
import type { Api } from '../api.js';
import { download } from '../components/download.js';
import { Status } from '../components/Status.js';
import { useLoad } from '../components/useLoad.js';

const PAGE = 50;
/** The server's page limit: an export is one page of the newest rows. */
const EXPORT_MAX = 1000;

type Row = Record<string, unknown>;

function toCsv(rows: Row[]): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]!);
  const cell = (v: unknown) => {
    let text = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    // A cell a spreadsheet would run as a formula (names and errors come from callers) is made text.
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  // The BOM makes Excel read UTF-8; CRLF is RFC 4180's line end.
  return `\uFEFF${[columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\r\n')}`;
}

/** One log (requests or audit): filters, paging, CSV export of the filtered rows. */
function LogTable({ api, kind }: { api: Api; kind: 'requests' | 'audit' }) {
  const [filter, setFilter] = useState('');
  const [status, setStatus] = useState('');
  const [offset, setOffset] = useState(0);
  const query = (limit: number, from: number) => {
    const params = new URLSearchParams({ limit: String(limit), offset: String(from) });
    if (kind === 'requests') {
      if (filter) params.set('model', filter);
      if (status) params.set('status', status);
    } else if (filter) params.set('action', filter);
    return `${kind === 'requests' ? '/api/logs' : '/api/audit'}?${params}`;
  };
  const rowsOf = (page: { logs?: Row[]; entries?: Row[] }) => page.logs ?? page.entries ?? [];
  const page = useLoad(() => api.get<{ logs?: Row[]; entries?: Row[]; total: number }>(query(PAGE, offset)), [api, kind, filter, status, offset]);
  const rows = page.data ? rowsOf(page.data) : [];
  const columns = kind === 'requests' ? ['ts', 'model', 'version', 'status', 'total_ms', 'queue_ms', 'infer_ms', 'variant', 'error'] : ['ts', 'actor_name', 'action', 'target', 'remote_addr'];
  const [exportNote, setExportNote] = useState<string>();
  const exportCsv = async () => {
    setExportNote(undefined);
    try {
      const all = await api.get<{ logs?: Row[]; entries?: Row[]; total: number }>(query(EXPORT_MAX, 0));
      const rows = rowsOf(all);
      download(`inferbox-${kind}.csv`, toCsv(rows), 'text/csv');
      if (all.total > rows.length) setExportNote(`Exported the newest ${rows.length} of ${all.total} rows (narrow the filter for older ones).`);
    } catch (e) {
      setExportNote(`Export failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  return (
    <section aria-labelledby={`${kind}-title`}>
      <h2 id={`${kind}-title`}>{kind === 'requests' ? 'Request log' : 'Audit log'}</h2>
      <div className="inline-form">
        <label>{kind === 'requests' ? 'Model' : 'Action'} <input value={filter} onChange={(e) => { setOffset(0); setFilter(e.target.value); }} /></label>
        {kind === 'requests' && (
          <label>Status
            <select value={status} onChange={(e) => { setOffset(0); setStatus(e.target.value); }}>
              <option value="">any</option><option value="success">success</option><option value="error">error</option>
            </select>
          </label>
        )}
        <button type="button" onClick={() => void exportCsv()}>Export CSV</button>
      </div>
      {exportNote && <p role="status">{exportNote}</p>}
      <Status loading={page.loading} error={page.error} onRetry={() => void page.reload()}>
        <div className="scroll">
          <table>
            <thead><tr>{columns.map((c) => <th key={c}>{c}</th>)}</tr></thead>
            <tbody>{rows.map((r, i) => <tr key={String(r.id ?? i)}>{columns.map((c) => <td key={c}>{r[c] === null || r[c] === undefined ? '' : typeof r[c] === 'number' ? Number((r[c] as number).toFixed(3)) : String(r[c]).slice(0, 300)}</td>)}</tr>)}</tbody>
          </table>
        </div>
        <div className="pager">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Newer</button>
          <span>{page.data ? `${Math.min(offset + 1, page.data.total)}–${Math.min(offset + PAGE, page.data.total)} of ${page.data.total}` : ''}</span>
          <button type="button" disabled={!page.data || offset + PAGE >= page.data.total} onClick={() => setOffset(offset + PAGE)}>Older</button>
        </div>
      </Status>
    </section>
  );
}

export function Logs({ api }: { api: Api }) {
  return (
    <>
      <h1>Logs</h1>
      <LogTable api={api} kind="requests" />
      <LogTable api={api} kind="audit" />
    </>
  );
}
