import { useCallback, useEffect, useState } from 'react';

/** Loads data, keeps the last error, and reloads on demand or every `intervalMs`. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], intervalMs?: number) {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);
  const reload = useCallback(() => {
    setLoading(true);
    return load().then(
      (value) => { setData(value); setError(undefined); },
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    ).finally(() => setLoading(false));
  }, deps);
  useEffect(() => {
    void reload();
    if (!intervalMs) return undefined;
    const timer = setInterval(() => void reload(), intervalMs);
    return () => clearInterval(timer);
  }, [reload, intervalMs]);
  return { data, error, loading, reload };
}
