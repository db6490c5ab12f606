/** Cumulative histogram buckets (upper bound in seconds, count so far), the last one +Inf (le null or Infinity). */
export type CumulativeBuckets = { le: number | null; count: number }[];

/**
 * The q-quantile (ms) of the observations between two cumulative histograms of the same bounds,
 * interpolated linearly inside its bucket as Prometheus' histogram_quantile does; null when nothing
 * happened between them, a counter went back (a restart), or it falls in the open last bucket.
 */
export function windowQuantile(now: CumulativeBuckets, before: CumulativeBuckets | undefined, q: number): number | null {
  const counts = now.map((b, i) => b.count - (before?.[i]?.count ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total <= 0 || counts.some((c) => c < 0)) return null;
  const rank = q * total;
  const index = counts.findIndex((c) => c >= rank);
  const upper = now[index]?.le;
  if (upper === null || upper === undefined || !Number.isFinite(upper)) return null;
  const lower = index > 0 ? now[index - 1]!.le ?? 0 : 0;
  const below = index > 0 ? counts[index - 1]! : 0;
  const inBucket = counts[index]! - below;
  const share = inBucket > 0 ? (rank - below) / inBucket : 1;
  return (lower + (upper - lower) * share) * 1000;
}

/** Buckets of several series with the same bounds, added (a model's versions). */
export function addBuckets(a: CumulativeBuckets | undefined, b: CumulativeBuckets): CumulativeBuckets {
  return a ? b.map((bucket, i) => ({ le: bucket.le, count: bucket.count + (a[i]?.count ?? 0) })) : b.map((bucket) => ({ ...bucket }));
}
