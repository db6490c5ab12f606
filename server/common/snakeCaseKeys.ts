const toSnake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The admin API speaks snake_case throughout; internal types are camelCase. This converts the
 * keys of plain objects (deeply) at the HTTP boundary so no type is written twice.
 */
export function snakeCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCaseKeys);
  if (value === null || typeof value !== 'object' || value.constructor !== Object) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [toSnake(k), snakeCaseKeys(v)]));
}
