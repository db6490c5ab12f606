/** What `boundedJson` left out, for the reader of the text. */
export interface JsonCut {
  /** Values nested deeper than the depth limit were replaced by a marker string. */
  deep: boolean;
  /** The text stopped at the character limit. */
  long: boolean;
}

const DEEP_MARKER = '"…(nested too deep)"';

/** Thrown inside the walk to stop it once the text is long enough. */
const FULL = Symbol('full');

/**
 * JSON text of a parsed JSON value (what `JSON.stringify` writes for it), bounded while it is
 * written: values nested deeper than `maxDepth` become a marker string, and writing stops after
 * about `maxChars` characters. `JSON.stringify` recurses once per level and throws a RangeError
 * near 5,000 levels, which a caller reaches with a 10 KB body (`parameters` are the caller's
 * JSON); and it writes a 100 MB value whole before anything can be cut. Arrays of numbers, the
 * bulk of tensor data, are written by `JSON.stringify` itself (they are one level deep).
 */
export function boundedJson(value: unknown, maxDepth: number, maxChars: number): { text: string; cut: JsonCut } {
  const parts: string[] = [];
  let length = 0;
  const cut: JsonCut = { deep: false, long: false };
  const push = (text: string) => {
    parts.push(text);
    length += text.length;
    if (length > maxChars) throw FULL;
  };
  const write = (node: unknown, depth: number): void => {
    if (node !== null && typeof node === 'object' && typeof (node as { toJSON?: unknown }).toJSON === 'function') node = (node as { toJSON(): unknown }).toJSON();
    if (node === null || typeof node !== 'object') {
      push(JSON.stringify(node) ?? 'null');
      return;
    }
    if (depth >= maxDepth) {
      cut.deep = true;
      push(DEEP_MARKER);
      return;
    }
    if (Array.isArray(node)) {
      if (node.every((item) => typeof item === 'number')) {
        push(JSON.stringify(node));
        return;
      }
      push('[');
      node.forEach((item, i) => {
        if (i > 0) push(',');
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') push('null');
        else write(item, depth + 1);
      });
      push(']');
      return;
    }
    push('{');
    let first = true;
    for (const [key, item] of Object.entries(node)) {
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      push(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
      first = false;
      write(item, depth + 1);
    }
    push('}');
  };
  try {
    write(value, 0);
  } catch (error) {
    if (error !== FULL) throw error;
    cut.long = true;
  }
  const text = parts.join('');
  return { text: cut.long ? text.slice(0, maxChars) : text, cut };
}
