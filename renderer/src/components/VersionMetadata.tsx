/** A version's labels (git commit, dataset…) and training metrics, as the pipeline registered them. */
export function VersionMetadata({ labels, metrics }: { labels: Record<string, string>; metrics: Record<string, number> }) {
  const labelEntries = Object.entries(labels);
  const metricEntries = Object.entries(metrics);
  if (labelEntries.length === 0 && metricEntries.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="metadata" aria-label="labels and metrics">
      {labelEntries.map(([key, value]) => <li key={`l-${key}`} className="label"><code>{key}</code>=<span>{value}</span></li>)}
      {metricEntries.map(([key, value]) => <li key={`m-${key}`} className="metric"><code>{key}</code>: <strong>{Number.isInteger(value) ? value : value.toPrecision(4)}</strong></li>)}
    </ul>
  );
}
