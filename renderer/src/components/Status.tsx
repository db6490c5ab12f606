import type { ReactNode } from 'react';

/** Loading and error states: a page never goes blank when the API fails. */
export function Status({ loading, error, children, onRetry }: { loading: boolean; error: string | undefined; children?: ReactNode; onRetry?: () => void }) {
  if (error) {
    return (
      <div role="alert" className="error">
        {error} {onRetry && <button type="button" onClick={onRetry}>Retry</button>}
      </div>
    );
  }
  if (loading && !children) return <p aria-busy="true" className="muted">Loading…</p>;
  return <>{children}</>;
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  return (
    <button type="button" className="small" aria-label={`${label}: ${text}`} onClick={() => void navigator.clipboard?.writeText(text)}>
      {label}
    </button>
  );
}

export function ErrorText({ error }: { error: string | undefined }) {
  return error ? <p role="alert" className="error">{error}</p> : null;
}
