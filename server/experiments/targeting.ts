import type { Condition } from './experimentConfig.js';

/** What a request offers to targeting rules: its headers (lowercase names) and OIP `parameters`. */
export interface RequestAttributes {
  headers: Record<string, string | string[] | undefined>;
  parameters: Record<string, unknown>;
}

function valueOf(attribute: string, request: RequestAttributes): unknown {
  const dot = attribute.indexOf('.');
  const source = attribute.slice(0, dot);
  const name = attribute.slice(dot + 1);
  if (source === 'header') {
    const value = request.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }
  return Object.hasOwn(request.parameters, name) ? request.parameters[name] : undefined;
}

/** Header values are strings: "42" equals 42, and numeric comparisons read numbers from strings. */
function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

type Scalar = string | number | boolean;

/**
 * Only scalars compare: an array or object parameter equals no scalar (`["de"]` is not "de"), and
 * is never turned into a string (String() of 10,000 nested arrays overflowed the stack: a 500).
 */
const isScalar = (value: unknown): value is Scalar => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

function same(actual: unknown, expected: Scalar): boolean {
  if (!isScalar(actual)) return false;
  if (typeof expected === 'number') return asNumber(actual) === expected;
  if (typeof expected === 'boolean') return actual === expected || actual === String(expected);
  return String(actual) === expected;
}

/**
 * Evaluates targeting rules. A missing attribute matches nothing except `neq` and `not_in`
 * (a request without a `country` header is "not in" any country list), like GrowthBook's rules;
 * so does a parameter that is an array, an object or null (only scalars compare).
 */
export function matches(condition: Condition, request: RequestAttributes): boolean {
  if ('all' in condition) return condition.all.every((c) => matches(c, request));
  if ('any' in condition) return condition.any.some((c) => matches(c, request));
  const actual = valueOf(condition.attribute, request);
  const { op, value } = condition;
  switch (op) {
    case 'eq': return same(actual, value as Scalar);
    case 'neq': return !same(actual, value as Scalar);
    case 'in': return (value as (string | number)[]).some((v) => same(actual, v));
    case 'not_in': return !(value as (string | number)[]).some((v) => same(actual, v));
    default: {
      const number = asNumber(actual);
      if (number === undefined) return false;
      const limit = value as number;
      return op === 'gt' ? number > limit : op === 'gte' ? number >= limit : op === 'lt' ? number < limit : number <= limit;
    }
  }
}
