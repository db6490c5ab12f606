import { useEffect, useRef, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Api } from '../api.js';
import { useLoad } from '../components/useLoad.js';
import { CopyButton, Status } from '../components/Status.js';
import { describeWebGpu, useWebGpuRecheck, type WebGpuInfo } from '../components/WebGpuStatus.js';

interface SystemInfo {
  version: string;
  uptime_s: number;
  urls: string[];
  grpc: GrpcInfo;
  tls: { enabled: boolean; fingerprint_sha256: string | null; plain_http_on_lan: boolean; warnings: string[] };
  hardware: { cpu: { brand: string; physical_cores: number; logical_cores: number; flags: Record<string, boolean> | null }; memory: { total_bytes: number }; gpus: { vendor: string; model: string; vram_mb: number | null }[] };
  execution_plan: { provider: string; instances: number; intra_op_threads: number; reasons: string[] };
  webgpu: WebGpuInfo;
  storage: { free_bytes: number; total_bytes: number; low_space: boolean; warnings: string[] };
  memory: { model_budget_bytes: number; models_estimated_bytes: number };
}

/** gRPC listens, or its port was taken at start (REST serves; the server tries the port again), or it is off. */
type GrpcInfo =
  | { state: 'up'; port: number; targets: string[] }
  | { state: 'unavailable'; port: number; reason: string; retry_interval_seconds: number; targets: string[] }
  | { state: 'off'; targets: string[] };

function GrpcStatus({ grpc }: { grpc: GrpcInfo }) {
  if (grpc.state === 'off') return <p className="muted">Off (<code>grpc_port</code> is off).</p>;
  if (grpc.state === 'unavailable') {
    return <p role="alert" className="warning">gRPC is unavailable: {grpc.reason}. Port {grpc.port} is tried again every {grpc.retry_interval_seconds} s; REST serves meanwhile.</p>;
  }
  return (
    <ul className="plain">
      {grpc.targets.map((target) => (
        <li key={target}><code>{target}</code> <CopyButton text={target} /></li>
      ))}
    </ul>
  );
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

interface Summary { at: string; models: { model: string; version: string; success: number; failure: number; buckets: { le: number | null; count: number }[] }[] }
interface Point { t: string; [series: string]: number | string | null }

const POLL_MS = 2000;
const KEEP = 90; // three minutes of points

/**
 * The q-quantile (ms) of the requests between two cumulative histograms, interpolated linearly
 * inside its bucket as Prometheus' histogram_quantile does; null when nothing happened or it falls
 * in the open-ended last bucket (over the largest bound).
 */
function intervalQuantile(now: Summary['models'][number], before: Summary['models'][number] | undefined, q: number): number | null {
  const counts = now.buckets.map((b, i) => b.count - (before?.buckets[i]?.count ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total <= 0 || counts.some((c) => c < 0)) return null; // nothing new, or the server restarted
  const rank = q * total;
  const index = counts.findIndex((c) => c >= rank);
  const upper = now.buckets[index]?.le;
  if (upper === null || upper === undefined) return null;
  const lower = index > 0 ? (now.buckets[index - 1]!.le ?? 0) : 0;
  const below = index > 0 ? counts[index - 1]! : 0;
  const inBucket = counts[index]! - below;
  const seconds = inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : upper;
  return Number((seconds * 1000).toFixed(3));
}

/** One chart point: what happened per model version between two cumulative summaries. */
function pointBetween(summary: Summary, before: Summary): Point {
  const seconds = (Date.parse(summary.at) - Date.parse(before.at)) / 1000;
  const point: Point = { t: new Date(summary.at).toLocaleTimeString() };
  for (const m of summary.models) {
    const old = before.models.find((o) => o.model === m.model && o.version === m.version);
    const name = `${m.model}/${m.version}`;
    const requests = m.success + m.failure - ((old?.success ?? 0) + (old?.failure ?? 0));
    point[`${name} req/s`] = seconds > 0 ? Number((requests / seconds).toFixed(1)) : 0;
    point[`${name} errors %`] = requests > 0 ? Number((((m.failure - (old?.failure ?? 0)) / requests) * 100).toFixed(1)) : 0;
    point[`${name} p50 ms`] = intervalQuantile(m, old, 0.5);
    point[`${name} p95 ms`] = intervalQuantile(m, old, 0.95);
  }
  return point;
}

/**
 * Throughput, error rate and latency per model version, from the server's metrics registry: the
 * server's recent samples first (`/api/metrics/history`, so the charts start full), then its own polls.
 */
function LiveCharts({ api }: { api: Api }) {
  const [points, setPoints] = useState<Point[]>([]);
  const [error, setError] = useState<string>();
  const previous = useRef<Summary | null>(null);
  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      try {
        const summary = await api.get<Summary>('/api/metrics/summary');
        const before = previous.current;
        previous.current = summary;
        setError(undefined);
        if (!before || stopped) return;
        setPoints((all) => [...all, pointBetween(summary, before)].slice(-KEEP));
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      }
    };
    const start = async () => {
      try {
        const { samples } = await api.get<{ samples: Summary[] }>('/api/metrics/history');
        if (stopped) return;
        setPoints(samples.slice(1).map((sample, i) => pointBetween(sample, samples[i]!)).slice(-KEEP));
        previous.current = samples.at(-1) ?? null;
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      }
      await poll();
    };
    void start();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => { stopped = true; clearInterval(timer); };
  }, [api]);
  const series = (suffix: string) => [...new Set(points.flatMap((p) => Object.keys(p).filter((k) => k.endsWith(suffix))))];
  const chart = (title: string, suffixes: string[], unit: string) => (
    <figure className="chart" aria-label={title}>
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={points}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="t" minTickGap={40} />
          <YAxis unit={unit} width={70} />
          <Tooltip />
          <Legend />
          {suffixes.flatMap((suffix) => series(suffix)).map((key, i) => (
            <Line key={key} type="linear" dataKey={key} dot={false} isAnimationActive={false} stroke={['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c'][i % 5]} connectNulls />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
  return (
    <section aria-labelledby="live-title">
      <h2 id="live-title">Live traffic</h2>
      {error && <p role="alert" className="error">{error}</p>}
      {points.length === 0 && <p className="muted">Collecting the first points (every {POLL_MS / 1000} s)…</p>}
      <div className="charts">
        {chart('Throughput', [' req/s'], '/s')}
        {chart('Latency p50 / p95', [' p50 ms', ' p95 ms'], ' ms')}
        {chart('Error rate', [' errors %'], '%')}
      </div>
    </section>
  );
}

/** GET /api/capacity (server/tuning/CapacityAdvisor.ts): each tuned model's load against its measured capacity. */
interface CapacityInfo { warning_ratio: number; models: { model: string; version: string; capacity_rps: number; objective_p95_ms: number; load_rps: number; ratio: number; p95_ms: number | null; warning: boolean; remediation: { to: string; since: string; reason: string } | null }[] }

/** Headroom per tuned model, and a banner for each one that has stayed near its capacity. */
function CapacityHeadroom({ api }: { api: Api }) {
  const capacity = useLoad(() => api.get<CapacityInfo>('/api/capacity'), [api], 5000);
  const models = capacity.data?.models ?? [];
  return (
    <section aria-labelledby="capacity-title" className="card">
      <h2 id="capacity-title">Capacity</h2>
      {models.filter((m) => m.warning).map((m) => (
        <p key={`warn-${m.model}`} role="alert" className="warning">
          {m.model} has run above {Math.round((capacity.data?.warning_ratio ?? 0.8) * 100)}% of its measured capacity for five minutes: its p95 ≤ {m.objective_p95_ms} ms promise is at risk. Tune it again or add capacity.
        </p>
      ))}
      {models.length === 0 ? (
        <p className="muted">No model has a measured capacity yet: give a model a latency objective and tune it (Models, Tuning).</p>
      ) : (
        <ul className="plain">
          {models.map((m) => (
            <li key={m.model}>
              <strong>{m.model}</strong>: {Math.round(m.ratio * 100)}% of capacity for p95 ≤ {m.objective_p95_ms} ms ({Math.round(m.load_rps)} of {Math.round(m.capacity_rps)} requests/s)
              {m.remediation && <div className="warning">Serving as &lsquo;{m.remediation.to}&rsquo; since {new Date(m.remediation.since).toLocaleTimeString()} (adaptive remediation): {m.remediation.reason}.</div>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function Dashboard({ api }: { api: Api }) {
  const system = useLoad(() => api.get<SystemInfo>('/api/system'), [api], 10_000);
  const info = system.data;
  useWebGpuRecheck(info?.webgpu, system.reload);
  return (
    <>
      <h1>Dashboard</h1>
      <Status loading={system.loading} error={system.error} onRetry={() => void system.reload()}>
        {info && (
          <div className="grid">
            <section aria-labelledby="status-title" className="card">
              <h2 id="status-title">Status</h2>
              <p>Running, version {info.version}, up {Math.round(info.uptime_s / 60)} min.</p>
              <h3>Business apps call</h3>
              <ul className="plain">
                {info.urls.map((url) => (
                  <li key={url}><code>{url}</code> <CopyButton text={url} /></li>
                ))}
              </ul>
              <h3>OIP v2 gRPC</h3>
              <GrpcStatus grpc={info.grpc} />
              {info.tls.enabled && info.tls.fingerprint_sha256 && (
                <p>TLS certificate fingerprint (SHA-256): <code className="wrap">{info.tls.fingerprint_sha256}</code> <CopyButton text={info.tls.fingerprint_sha256} /></p>
              )}
              {info.tls.warnings.map((warning) => <p key={warning} role="alert" className="warning">{warning}</p>)}
              <p>Disk (data directory): {gib(info.storage.free_bytes)} free of {gib(info.storage.total_bytes)}. Models' memory (estimated): {gib(info.memory.models_estimated_bytes)} of a {gib(info.memory.model_budget_bytes)} budget.</p>
              {info.storage.warnings.map((warning) => <p key={warning} role="alert" className="warning">{warning}</p>)}
            </section>
            <CapacityHeadroom api={api} />
            <section aria-labelledby="hardware-title" className="card">
              <h2 id="hardware-title">Hardware and execution plan</h2>
              <p>{info.hardware.cpu.brand}: {info.hardware.cpu.physical_cores} cores ({info.hardware.cpu.logical_cores} threads), {(info.hardware.memory.total_bytes / 2 ** 30).toFixed(1)} GiB</p>
              <p>Instruction sets: {info.hardware.cpu.flags ? Object.entries(info.hardware.cpu.flags).filter(([, on]) => on).map(([flag]) => flag).join(', ') || 'none of AVX2/AVX-512/VNNI/AMX' : 'unknown'}</p>
              <p>GPUs: {info.hardware.gpus.length === 0 ? 'none found' : info.hardware.gpus.map((g) => `${g.model}${g.vram_mb ? ` (${g.vram_mb} MB)` : ''}`).join(', ')}</p>
              <p data-testid="webgpu-status">WebGPU: {describeWebGpu(info.webgpu)}</p>
              <p>Execution provider: <strong>{info.execution_plan.provider}</strong>, {info.execution_plan.instances} workers × {info.execution_plan.intra_op_threads} threads</p>
              <details>
                <summary>Why</summary>
                <ul>{info.execution_plan.reasons.map((r) => <li key={r}>{r}</li>)}</ul>
              </details>
            </section>
          </div>
        )}
      </Status>
      <LiveCharts api={api} />
    </>
  );
}
