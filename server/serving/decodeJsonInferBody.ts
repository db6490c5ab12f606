import { parseJsonText } from '../common/parseJsonText.js';
import { decodeInferRequest, type DecodedInferRequest, type ModelSignature } from './decodeInferRequest.js';

/**
 * Decodes an OIP v2 JSON infer body (its bytes, as read from the socket) against the model's
 * signature: exactly `decodeInferRequest(parseJsonText(body.toString('utf8'), 'the body'), ...)`,
 * the same result and the same InferboxError for every bad input.
 *
 * Mid-size tensors cost that composition several ms of one thread, and most of it is not the
 * numbers (550 KB FP32 body, 2-core EPYC VM: utf8 → string 1.6 ms, JSON.parse 2.8 ms, zod copying
 * the 27,648-element `data` array 1.2 ms; ~7 ms in all). So bodies of FAST_PATH_MIN_BYTES and more
 * first try a single pass over the bytes (`tryDecodeNumericData`): every numeric `data` array is
 * read straight from the bytes into a typed array, and only the small rest of the JSON goes
 * through JSON.parse, zod and `decodeInferRequest`. Anything it is not sure about (syntax it does
 * not expect, an escaped key, a value out of range, any error at all) sends the whole body down the
 * general path, which gives the answer or the error; the single pass itself never throws.
 * Measured (bench/decodeOffThread.ts): ~1.8 ms for that 550 KB body, about half the general path's
 * time from 8 KB up; a pass that bails after scanning costs up to ~1.5 ms extra at 550 KB, for
 * bodies that are rare (escaped keys) or refused anyway.
 */
export function decodeJsonInferBody(body: Buffer | Uint8Array, signature: ModelSignature, binary?: Buffer): DecodedInferRequest {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (bytes.length >= FAST_PATH_MIN_BYTES && (binary === undefined || binary.length === 0)) {
    const decoded = tryDecodeNumericData(bytes, signature);
    if (decoded) return decoded;
  }
  return decodeInferRequest(parseJsonText(bytes.toString('utf8'), 'the body'), signature, binary);
}

/**
 * Below this the general path is as fast (bench/decodeOffThread.ts: a 160-byte mlp body takes
 * ~3 µs either way, and at 1 KB the single pass saves under 10%), and the scan is wasted work
 * whenever it bails.
 */
const FAST_PATH_MIN_BYTES = 1024;

// ---------------------------------------------------------------------------------------------
// The fast path. Correctness argument, in short:
// 1. The scanner is a strict JSON validator; on a valid body it knows exactly which byte range is
//    the value of `inputs[i].data`. It lifts out only ranges that are arrays of JSON number tokens
//    (flat, or nested evenly), replacing each by `[]`, and bails on anything it would have to guess
//    about: escaped keys, duplicate `inputs`/`data` keys, deep nesting.
// 2. Each lifted input becomes a binary-extension input (`parameters.binary_data_size`, its bytes
//    in a binary part built here, its other parameters kept), and the skeleton goes through the
//    real `decodeInferRequest`. Only for a body without a binary part, and only inputs whose
//    parameters (read from the parsed skeleton) are absent or an object without `binary_data_size`. So
//    zod, names, datatypes, shapes, outputs and all other checks are the real ones, and a valid
//    skeleton decodes to the same tensors: `decodeBinaryTensor` copies our bytes bit for bit.
// 3. A lifted input is converted only when every element is one the general path accepts
//    (finite, in range, an integer for integer types); otherwise it bails. Nested data must match
//    the shape dimension by dimension, as `flatten` demands. Element counts are checked by
//    `decodeBinaryTensor` the way `decodeInputTensor` checks them.
// 4. Numbers: JSON.parse gives the correctly rounded double d of the decimal, and FP32 stores
//    fround(d). A token whose digits fit 2^53 with a power of ten up to 10^22 is exactly d by one
//    IEEE multiply or divide (Clinger's fast path). Otherwise (typically 17 digits, the shortest
//    form of a float32 widened to double) we compute an approximation a from at most 19 digits m
//    and 10^k, -300 <= k <= 280: m is off by at most two roundings, 10^k (k > 22) by one, the
//    multiply or divide by one more, so with u = 2^-53, |a - x| <= 4.1u|x| for the decimal's exact
//    value x, and d = RN(x) is within u|x| of x: |a - d| < 5.3u|a|. For FP32 we use fround(a) only
//    when fround gives the same float32 at a - 16u|a| and a + 16u|a|: fround is monotonic, so
//    fround(d) is that float32 too. Everything else (other datatypes, the rare approximation that
//    straddles a float32 rounding boundary, more than 19 digits, extreme exponents) is
//    Number(token text), the same correctly rounded conversion JSON.parse does.
// ---------------------------------------------------------------------------------------------

const QUOTE = 0x22, COMMA = 0x2c, MINUS = 0x2d, PLUS = 0x2b, DOT = 0x2e, COLON = 0x3a, BACKSLASH = 0x5c;
const ZERO = 0x30, NINE = 0x39, LOWER_E = 0x65, UPPER_E = 0x45;
const OPEN_BRACKET = 0x5b, CLOSE_BRACKET = 0x5d, OPEN_BRACE = 0x7b, CLOSE_BRACE = 0x7d;
const SPACE = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;

/** Generic values nested deeper than this make the scanner bail (JSON.parse would take them). */
const MAX_DEPTH = 64;
const TWO_53 = 2 ** 53;
/** 10^0..10^22 are exact doubles; 10^23..10^308 are the correctly rounded literals. */
const POW10 = Float64Array.from({ length: 309 }, (_, k) => Number(`1e${k}`));
/** Half-width of the interval around an approximation, relative to it: 16u (the error is below 5.3u). */
const APPROX_TOLERANCE = 16 * 2 ** -53;

/** Thrown inside the scanner to give up; caught at its entry. */
class Bail {}
const BAIL = new Bail();

/** One lifted `data` array: which input, which tokens, and its nesting (dims; one entry when flat). */
interface NumericRange {
  input: number;
  start: number;
  end: number;
  firstToken: number;
  tokens: number;
  dims: number[];
}

/**
 * Token scratch, reused across calls (decoding is synchronous and one thread has one decoder).
 * `values[i]` is exact when `exact[i]` is 1, else an approximation; `starts[i]` is the token's
 * first byte, for re-reading it exactly.
 */
let values = new Float64Array(4096);
let starts = new Int32Array(4096);
let exact = new Uint8Array(4096);
/** The binary part handed to decodeInferRequest (own ArrayBuffer, offset 0: aligned for every type). */
let binaryScratch = Buffer.from(new ArrayBuffer(0));
/**
 * Scratch larger than these is dropped after the call, so one huge body does not pin its memory
 * (kept: 13 bytes a token, ~3.4 MB; a 224×224×3 image is 150,528 tokens).
 */
const SCRATCH_KEEP_TOKENS = 1 << 18;
const SCRATCH_KEEP_BINARY_BYTES = 1 << 21;

function growScratch(needed: number): void {
  let size = values.length;
  while (size < needed) size *= 2;
  const v = new Float64Array(size); v.set(values); values = v;
  const s = new Int32Array(size); s.set(starts); starts = s;
  const e = new Uint8Array(size); e.set(exact); exact = e;
}

class Scanner {
  pos = 0;
  tokenCount = 0;
  readonly ranges: NumericRange[] = [];

  constructor(private readonly b: Buffer) {}

  skipWs(): void {
    const b = this.b;
    let p = this.pos;
    for (;;) {
      const c = b[p];
      if (c === SPACE || c === LF || c === CR || c === TAB) p++;
      else break;
    }
    this.pos = p;
  }

  expect(c: number): void {
    if (this.b[this.pos] !== c) throw BAIL;
    this.pos++;
  }

  /** A key; returns it when it has no escapes (else undefined: the caller cannot know what it says). */
  key(): string | undefined {
    const start = this.pos + 1;
    const escaped = this.string();
    return escaped ? undefined : this.b.toString('latin1', start, this.pos - 1);
  }

  /** Skips a string (pos at its quote); returns whether it had escapes. */
  string(): boolean {
    const b = this.b;
    if (b[this.pos] !== QUOTE) throw BAIL;
    let p = this.pos + 1;
    let escaped = false;
    for (;;) {
      const c = b[p];
      if (c === undefined || c < 0x20) throw BAIL;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        escaped = true;
        const e = b[p + 1];
        if (e === 0x75) { // \uXXXX
          for (let i = 2; i < 6; i++) if (!isHex(b[p + i])) throw BAIL;
          p += 6;
        } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          p += 2;
        } else {
          throw BAIL;
        }
      } else {
        p++;
      }
    }
    this.pos = p + 1;
    return escaped;
  }

  /** Skips any JSON value. */
  value(depth: number): void {
    if (depth > MAX_DEPTH) throw BAIL;
    const b = this.b;
    const c = b[this.pos];
    if (c === QUOTE) { this.string(); return; }
    if (c === OPEN_BRACE) {
      this.pos++;
      this.skipWs();
      if (b[this.pos] === CLOSE_BRACE) { this.pos++; return; }
      for (;;) {
        this.skipWs();
        this.string();
        this.skipWs();
        this.expect(COLON);
        this.skipWs();
        this.value(depth + 1);
        this.skipWs();
        if (b[this.pos] === COMMA) { this.pos++; continue; }
        this.expect(CLOSE_BRACE);
        return;
      }
    }
    if (c === OPEN_BRACKET) {
      this.pos++;
      this.skipWs();
      if (b[this.pos] === CLOSE_BRACKET) { this.pos++; return; }
      for (;;) {
        this.skipWs();
        this.value(depth + 1);
        this.skipWs();
        if (b[this.pos] === COMMA) { this.pos++; continue; }
        this.expect(CLOSE_BRACKET);
        return;
      }
    }
    if (c === MINUS || (c !== undefined && c >= ZERO && c <= NINE)) { this.number(false); return; }
    if (this.literal('true') || this.literal('false') || this.literal('null')) return;
    throw BAIL;
  }

  literal(word: string): boolean {
    for (let i = 0; i < word.length; i++) if (this.b[this.pos + i] !== word.charCodeAt(i)) return false;
    this.pos += word.length;
    return true;
  }

  /** The whole body: an object whose `inputs` we look into; everything else is only validated. */
  document(): void {
    const b = this.b;
    this.skipWs();
    this.expect(OPEN_BRACE);
    this.skipWs();
    let sawInputs = false;
    if (b[this.pos] !== CLOSE_BRACE) {
      for (;;) {
        this.skipWs();
        const key = this.key();
        this.skipWs();
        this.expect(COLON);
        this.skipWs();
        if (key === undefined) throw BAIL; // might say "inputs"
        if (key === 'inputs') {
          if (sawInputs) throw BAIL; // JSON.parse keeps the last one; not worth tracking
          sawInputs = true;
          this.inputs();
        } else {
          this.value(1);
        }
        this.skipWs();
        if (b[this.pos] === COMMA) { this.pos++; continue; }
        this.expect(CLOSE_BRACE);
        break;
      }
    } else {
      this.pos++;
    }
    this.skipWs();
    if (this.pos !== b.length) throw BAIL;
  }

  inputs(): void {
    const b = this.b;
    if (b[this.pos] !== OPEN_BRACKET) { this.value(1); return; }
    this.pos++;
    this.skipWs();
    if (b[this.pos] === CLOSE_BRACKET) { this.pos++; return; }
    for (let index = 0; ; index++) {
      this.skipWs();
      if (b[this.pos] === OPEN_BRACE) this.input(index);
      else this.value(2);
      this.skipWs();
      if (b[this.pos] === COMMA) { this.pos++; continue; }
      this.expect(CLOSE_BRACKET);
      return;
    }
  }

  input(index: number): void {
    const b = this.b;
    this.pos++; // {
    this.skipWs();
    if (b[this.pos] === CLOSE_BRACE) { this.pos++; return; }
    let sawData = false;
    for (;;) {
      this.skipWs();
      const key = this.key();
      this.skipWs();
      this.expect(COLON);
      this.skipWs();
      // An escaped key might say "data"; a duplicate "data" would need JSON.parse's last-one-wins.
      // Both rare: the general path takes them.
      if (key === undefined) throw BAIL;
      if (key === 'data') {
        if (sawData) throw BAIL;
        sawData = true;
        const start = this.pos;
        const firstToken = this.tokenCount;
        if (!(b[start] === OPEN_BRACKET && this.numericArray(index))) {
          this.pos = start;
          this.tokenCount = firstToken;
          this.value(3);
        }
      } else {
        this.value(3);
      }
      this.skipWs();
      if (b[this.pos] === COMMA) { this.pos++; continue; }
      this.expect(CLOSE_BRACE);
      return;
    }
  }

  /**
   * Reads `data` (pos at its '[') as numbers: flat, or nested with every array at one depth of
   * the same length. False (pos anywhere, tokens recorded so far to be dropped) when it is
   * anything else, so the caller validates it as a plain value.
   */
  numericArray(input: number): boolean {
    const b = this.b;
    const start = this.pos;
    const firstToken = this.tokenCount;
    const dims: number[] = [];
    /** Elements seen so far in the open array at each depth. */
    const counts: number[] = [];
    /** Whether arrays at each depth hold arrays (1) or numbers (0); -1 until the first element. */
    const holds: number[] = [];
    let depth = -1;
    for (;;) {
      const c = b[this.pos];
      if (c === OPEN_BRACKET) {
        depth++;
        if (depth > 0) {
          // An array element of the parent array.
          if (holds[depth - 1] === -1) holds[depth - 1] = 1;
          else if (holds[depth - 1] !== 1) return false;
          counts[depth - 1]!++;
        }
        if (depth >= MAX_DEPTH) return false;
        if (counts.length === depth) { counts.push(0); holds.push(-1); }
        counts[depth] = 0;
        this.pos++;
        this.skipWs();
        if (b[this.pos] === CLOSE_BRACKET) return false; // empty arrays: the general path
        continue;
      }
      // A number element.
      if (holds[depth] === -1) holds[depth] = 0;
      else if (holds[depth] !== 0) return false;
      if (!(c === MINUS || (c !== undefined && c >= ZERO && c <= NINE))) return false;
      counts[depth]!++;
      if (this.tokenCount === values.length) growScratch(this.tokenCount + 1);
      this.number(true);
      if (b[this.pos] === COMMA) { // compact JSON, the common case: straight on to the next number
        const next = b[this.pos + 1];
        if (next === MINUS || (next !== undefined && next >= ZERO && next <= NINE)) { this.pos++; continue; }
      }
      // After an element: ',' then the next element, or ']' closing one or more arrays.
      for (;;) {
        this.skipWs();
        const d = b[this.pos];
        if (d === COMMA) {
          this.pos++;
          this.skipWs();
          break;
        }
        if (d !== CLOSE_BRACKET) return false;
        this.pos++;
        const n = counts[depth]!;
        if (dims[depth] === undefined) dims[depth] = n;
        else if (dims[depth] !== n) return false;
        depth--;
        if (depth < 0) {
          // Only arrays of one depth hold numbers; every deeper level was seen.
          if (holds.some((h, level) => (level < holds.length - 1 ? h !== 1 : h !== 0)) || dims.length !== holds.length) return false;
          this.ranges.push({ input, start, end: this.pos, firstToken, tokens: this.tokenCount - firstToken, dims });
          return true;
        }
      }
      if (b[this.pos] === OPEN_BRACKET && holds[depth] === 0) return false;
    }
  }

  /**
   * A JSON number token at pos. With `record`, its value goes to the scratch arrays: exact when
   * the digits allow it, else an approximation (see the note above).
   */
  number(record: boolean): void {
    const b = this.b;
    let p = this.pos;
    const start = p;
    let negative = false;
    if (b[p] === MINUS) { negative = true; p++; }
    const unsigned = p;
    let c = b[p]!;
    // Significant digits: the first 15 in hi, the next 4 in lo; beyond that `tooLong`.
    let hi = 0, lo = 0, loDigits = 0, digits = 0, scale = 0;
    let tooLong = false;
    if (c === ZERO) {
      p++;
      c = b[p]!;
      if (c >= ZERO && c <= NINE) throw BAIL; // leading zero
    } else if (c >= ZERO + 1 && c <= NINE) {
      do {
        if (digits < 15) hi = hi * 10 + (c - ZERO);
        else if (digits < 19) { lo = lo * 10 + (c - ZERO); loDigits++; } else { tooLong = true; scale++; }
        digits++;
        p++;
        c = b[p]!;
      } while (c >= ZERO && c <= NINE);
    } else {
      throw BAIL;
    }
    if (c === DOT) {
      p++;
      c = b[p]!;
      if (!(c >= ZERO && c <= NINE)) throw BAIL;
      do {
        if (digits === 0 && c === ZERO) {
          scale--; // leading zeros of 0.000123 are not significant
        } else {
          if (digits < 15) hi = hi * 10 + (c - ZERO);
          else if (digits < 19) { lo = lo * 10 + (c - ZERO); loDigits++; } else { tooLong = true; scale++; }
          digits++;
          scale--;
        }
        p++;
        c = b[p]!;
      } while (c >= ZERO && c <= NINE);
    }
    let exponent = 0;
    if (c === LOWER_E || c === UPPER_E) {
      p++;
      c = b[p]!;
      let expNegative = false;
      if (c === PLUS || c === MINUS) { expNegative = c === MINUS; p++; c = b[p]!; }
      if (!(c >= ZERO && c <= NINE)) throw BAIL;
      do {
        // Exact below 2^53; beyond, far outside the ranges below, so Number() reads the token.
        exponent = exponent * 10 + (c - ZERO);
        p++;
        c = b[p]!;
      } while (c >= ZERO && c <= NINE);
      if (expNegative) exponent = -exponent;
    }
    this.pos = p;
    if (!record) return;

    const i = this.tokenCount++;
    starts[i] = start;
    let value: number;
    let isExact = 1;
    const e10 = exponent + scale;
    if (digits === 0) {
      value = 0; // 0, 0.000, 0e99: zero whatever the exponent
    } else if (tooLong) {
      value = Number(b.toString('latin1', unsigned, p));
    } else {
      const m = loDigits === 0 ? hi : hi * POW10[loDigits]! + lo;
      if (m < TWO_53 && e10 >= -22 && e10 <= 22) {
        value = e10 >= 0 ? m * POW10[e10]! : m / POW10[-e10]!;
      } else if (e10 >= -300 && e10 <= 280) {
        // m < 10^19, so the result stays within normal doubles.
        value = e10 >= 0 ? m * POW10[e10]! : m / POW10[-e10]!;
        isExact = 0;
      } else {
        value = Number(b.toString('latin1', unsigned, p));
      }
    }
    values[i] = negative ? -value : value;
    exact[i] = isExact;
  }
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

/** The exact double of token i (what JSON.parse gives for it). */
function exactValue(b: Buffer, i: number): number {
  if (exact[i] === 1) return values[i]!;
  let end = starts[i]! + 1;
  for (let c = b[end]; c !== undefined && ((c >= ZERO && c <= NINE) || c === DOT || c === LOWER_E || c === UPPER_E || c === PLUS || c === MINUS); c = b[++end]);
  return Number(b.toString('latin1', starts[i], end));
}

type NumericDatatype = 'FP32' | 'FP64' | 'INT8' | 'INT16' | 'INT32' | 'INT64' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64';
const ELEMENT_BYTES: Record<NumericDatatype, number> = { FP32: 4, FP64: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8, UINT8: 1, UINT16: 2, UINT32: 4, UINT64: 8 };
const INTEGER_RANGES: Partial<Record<NumericDatatype, [number, number]>> = {
  UINT8: [0, 0xff], UINT16: [0, 0xffff], UINT32: [0, 0xffffffff],
  INT8: [-0x80, 0x7f], INT16: [-0x8000, 0x7fff], INT32: [-0x80000000, 0x7fffffff],
};

const isNumericDatatype = (d: unknown): d is NumericDatatype => typeof d === 'string' && Object.hasOwn(ELEMENT_BYTES, d);

/** Writes the range's tokens as `datatype` into `out` (little-endian bytes), or false when the general path would refuse one. */
function convert(b: Buffer, range: NumericRange, datatype: NumericDatatype, out: Uint8Array): boolean {
  const first = range.firstToken, n = range.tokens;
  const aligned = out.byteOffset % ELEMENT_BYTES[datatype] === 0;
  const buffer = aligned ? (out.buffer as ArrayBuffer) : new ArrayBuffer(out.byteLength);
  const offset = aligned ? out.byteOffset : 0;
  switch (datatype) {
    case 'FP32': {
      const target = new Float32Array(buffer, offset, n);
      for (let k = 0; k < n; k++) {
        const i = first + k;
        let f: number;
        if (exact[i] === 1) {
          f = Math.fround(values[i]!);
        } else {
          const a = values[i]!;
          const t = Math.abs(a) * APPROX_TOLERANCE;
          f = Math.fround(a - t);
          if (f !== Math.fround(a + t)) f = Math.fround(exactValue(b, i));
        }
        if (f - f !== 0) return false; // ±Infinity (NaN cannot come from a JSON number)
        target[k] = f;
      }
      break;
    }
    case 'FP64': {
      const target = new Float64Array(buffer, offset, n);
      for (let k = 0; k < n; k++) {
        const v = exactValue(b, first + k);
        if (v - v !== 0) return false;
        target[k] = v;
      }
      break;
    }
    case 'INT64': case 'UINT64': {
      const target = datatype === 'INT64' ? new BigInt64Array(buffer, offset, n) : new BigUint64Array(buffer, offset, n);
      for (let k = 0; k < n; k++) {
        const v = exactValue(b, first + k);
        // Number.isSafeInteger as fillBigInts demands; both 64-bit ranges hold every safe integer but UINT64 no negatives.
        if (!Number.isSafeInteger(v) || (datatype === 'UINT64' && v < 0)) return false;
        target[k] = BigInt(v);
      }
      break;
    }
    default: {
      const [min, max] = INTEGER_RANGES[datatype]!;
      const Target = { INT8: Int8Array, INT16: Int16Array, INT32: Int32Array, UINT8: Uint8Array, UINT16: Uint16Array, UINT32: Uint32Array }[datatype];
      const target = new Target(buffer, offset, n);
      for (let k = 0; k < n; k++) {
        const v = exactValue(b, first + k);
        if (!Number.isInteger(v) || v < min || v > max) return false;
        target[k] = v;
      }
    }
  }
  if (!aligned) out.set(new Uint8Array(buffer));
  return true;
}

/**
 * The fast path: a decoded request, or undefined when the general path must decide. Exported for
 * the tests, which check that it is taken and agrees with the general path.
 */
export function tryDecodeNumericData(b: Buffer, signature: ModelSignature): DecodedInferRequest | undefined {
  const scanner = new Scanner(b);
  try {
    scanner.document();
    if (scanner.ranges.length === 0) return undefined;
    // The skeleton: the body with every lifted array replaced by []. Cuts fall on ASCII bytes, so
    // decoding the pieces gives the same text as decoding the whole.
    let text = '';
    let from = 0;
    for (const range of scanner.ranges) {
      text += `${b.toString('utf8', from, range.start)}[]`;
      from = range.end;
    }
    text += b.toString('utf8', from);
    const skeleton = JSON.parse(text) as { inputs: Array<Record<string, unknown>> };

    const lifted: Array<{ range: NumericRange; datatype: NumericDatatype; offset: number; bytes: number }> = [];
    let binaryBytes = 0;
    for (const range of scanner.ranges) {
      const input = skeleton.inputs[range.input]!;
      const { datatype, shape } = input;
      const nestedFits = range.dims.length === 1 || (Array.isArray(shape) && shape.length === range.dims.length && range.dims.every((d, k) => d === shape[k]));
      const { parameters } = input;
      const parametersFit = parameters === undefined ||
        (typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters) && !Object.hasOwn(parameters, 'binary_data_size'));
      if (isNumericDatatype(datatype) && nestedFits && parametersFit) {
        const bytes = range.tokens * ELEMENT_BYTES[datatype];
        lifted.push({ range, datatype, offset: binaryBytes, bytes });
        binaryBytes += bytes;
      } else {
        // FP16, BOOL given numbers, a misnested array, data beside binary_data_size...: back as
        // JSON, for decodeInferRequest to judge.
        input.data = JSON.parse(b.toString('latin1', range.start, range.end)) as unknown;
      }
    }
    if (lifted.length === 0) return undefined;
    // decodeBinaryTensor copies the bytes into the tensor, so the binary part can be scratch memory
    // reused from call to call (a fresh one per call measured ~100 µs of page faults at 110 KB).
    if (binaryScratch.length < binaryBytes) binaryScratch = Buffer.from(new ArrayBuffer(Math.max(binaryBytes, 2 * binaryScratch.length)));
    const binary = binaryScratch.subarray(0, binaryBytes);
    for (const { range, datatype, offset, bytes } of lifted) {
      if (!convert(b, range, datatype, binary.subarray(offset, offset + bytes))) return undefined;
      const input = skeleton.inputs[range.input]!;
      delete input.data;
      input.parameters = { ...(input.parameters as object | undefined), binary_data_size: bytes };
    }
    return decodeInferRequest(skeleton, signature, binary);
  } catch {
    // BAIL, or an error about the rewritten request, which would not word things as the caller
    // wrote them (nor would a bug of ours): the general path decides and says why.
    return undefined;
  } finally {
    if (binaryScratch.length > SCRATCH_KEEP_BINARY_BYTES) binaryScratch = Buffer.from(new ArrayBuffer(0));
    if (values.length > SCRATCH_KEEP_TOKENS) {
      values = new Float64Array(4096);
      starts = new Int32Array(4096);
      exact = new Uint8Array(4096);
    }
  }
}
