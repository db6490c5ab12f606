import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OipDatatype } from '../../../server/common/datatypes.js';
import { mulberry32 } from '../../../server/common/mulberry32.js';
import { decodeJsonInferBody, tryDecodeNumericData } from '../../../server/serving/decodeJsonInferBody.js';
import {
  assertSameDecoded, assertSameOutcome, errorCases, general, numberTokens, ocrBody, ocrSignature, oneInput, outcomeOf, tokensBody, validCases,
} from './decodeCases.js';

describe('decodeJsonInferBody gives what decodeInferRequest(parseJsonText(body)) gives', () => {
  for (const c of validCases()) {
    test(`valid: ${c.name}`, () => {
      const expected = general(c);
      assertSameDecoded(decodeJsonInferBody(c.body, c.signature, c.binary), expected, c.name);
      // The single-pass path is taken where it should be, and agrees on its own.
      const fast = c.binary ? undefined : tryDecodeNumericData(c.body, c.signature);
      assert.equal(fast !== undefined, c.fast, `${c.name}: single-pass path ${fast ? 'taken' : 'not taken'}`);
      if (fast) assertSameDecoded(fast, expected, c.name);
    });
  }

  for (const c of errorCases()) {
    test(`error: ${c.name}`, () => {
      const expected = outcomeOf(() => general(c));
      assert.ok(!expected.ok, `${c.name}: the case should be an error`);
      assertSameOutcome(outcomeOf(() => decodeJsonInferBody(c.body, c.signature, c.binary)), expected, c.name);
      // The single-pass path never throws: it leaves errors to the general path.
      if (!c.binary) assert.equal(outcomeOf(() => tryDecodeNumericData(c.body, c.signature)!).ok, true);
    });
  }

  test('takes a Uint8Array as well as a Buffer', () => {
    const body = ocrBody();
    const view = new Uint8Array(body.length + 8).subarray(4, 4 + body.length);
    view.set(body);
    assertSameDecoded(decodeJsonInferBody(view, ocrSignature), general({ body, signature: ocrSignature }));
  });
});

describe('numbers: the single-pass conversion equals JSON.parse, then the datatype (bit for bit, or the same error)', () => {
  const datatypes: OipDatatype[] = ['FP32', 'FP64', 'INT32', 'INT64', 'UINT8', 'UINT64'];
  for (const datatype of datatypes) {
    test(`${datatype}: valid numbers decode to the same bits, and the single-pass path takes them`, () => {
      const signature = oneInput(datatype);
      for (let round = 0; round < 30; round++) {
        // Keep the tokens the general path accepts for this datatype, so one request holds them all.
        const tokens = numberTokens(400, 1000 * datatypes.indexOf(datatype) + round)
          .filter((token) => outcomeOf(() => general({ body: tokensBody(datatype, [token, ...Array(60).fill('0')]), signature })).ok);
        if (tokens.length === 0) continue;
        const body = tokensBody(datatype, [...tokens, ...Array(60).fill('0')]);
        const expected = general({ body, signature });
        const fast = tryDecodeNumericData(body, signature);
        assert.ok(fast, `${datatype} round ${round}: single-pass path not taken`);
        assertSameDecoded(fast, expected, `${datatype} round ${round}`);
      }
    });

    test(`${datatype}: a refused number gives the same error at the same index`, () => {
      const signature = oneInput(datatype);
      const random = mulberry32(77 + datatypes.indexOf(datatype));
      const filler = datatype.startsWith('FP') ? '0.5' : '7';
      let refused = 0;
      for (const token of numberTokens(3000, 5000 + datatypes.indexOf(datatype))) {
        const tokens = Array<string>(600).fill(filler); // over 1 KB: decodeJsonInferBody tries the single-pass path
        tokens[Math.floor(random() * tokens.length)] = token;
        const c = { body: tokensBody(datatype, tokens), signature };
        const expected = outcomeOf(() => general(c));
        if (!expected.ok) refused++;
        assertSameOutcome(outcomeOf(() => decodeJsonInferBody(c.body, c.signature)), expected, `${datatype} ${token}`);
      }
      // FP64 refuses only what overflows a double (1e309...); the others refuse far more.
      assert.ok(refused > (datatype === 'FP64' ? 5 : 50), `${datatype}: only ${refused} refusals exercised`);
    });
  }

  test('the numbers the issue names', () => {
    const signature = oneInput('FP32');
    const filler = Array<string>(600).fill('1');
    for (const token of ['1e-7', '-0', '3.4028235e38', '1e39', '-1e39', '1E+38', '2.5e-45', '1.4e-45', '7e-46', '0.1', '123456789.123456789e-3']) {
      const c = { body: tokensBody('FP32', [...filler, token]), signature };
      const expected = outcomeOf(() => general(c));
      assertSameOutcome(outcomeOf(() => decodeJsonInferBody(c.body, signature)), expected, token);
      if (expected.ok) {
        const value = (expected.value.feeds.v!.data as Float32Array)[600]!;
        assert.ok(Object.is(value, Math.fround(JSON.parse(token) as number)), token);
      }
    }
  });
});

test('mutated bodies (a byte inserted, deleted or changed) decode or fail exactly as the general path does', () => {
  const random = mulberry32(4242);
  const base = Buffer.from(JSON.stringify({
    id: 'm', parameters: { timeout: 10 }, outputs: [{ name: 'out' }],
    inputs: [{ name: 'v', datatype: 'FP32', shape: [2, 3, 20], data: Array.from({ length: 2 }, (_, i) => Array.from({ length: 3 }, (_, j) => Array.from({ length: 20 }, (_, k) => Math.fround(Math.sin(i * 60 + j * 20 + k)) * 10 ** ((k % 7) - 3)))) }],
  }));
  const signature = oneInput('FP32', [-1, 3, 20]);
  const alphabet = Buffer.from('[]{},:"\\-+.eE0123456789 \ntruefalsnul');
  let fastTaken = 0;
  for (let i = 0; i < 1500; i++) {
    const body = Buffer.from(base);
    const at = Math.floor(random() * body.length);
    const byte = alphabet[Math.floor(random() * alphabet.length)]!;
    const kind = Math.floor(random() * 3);
    const mutated = kind === 0 ? Buffer.concat([body.subarray(0, at), Buffer.from([byte]), body.subarray(at)])
      : kind === 1 ? Buffer.concat([body.subarray(0, at), body.subarray(at + 1)])
        : (body[at] = byte, body);
    const c = { body: mutated, signature };
    const expected = outcomeOf(() => general(c));
    assertSameOutcome(outcomeOf(() => decodeJsonInferBody(mutated, signature)), expected, `mutation ${i}: ${mutated.toString('latin1', Math.max(0, at - 10), at + 10)}`);
    const fast = outcomeOf(() => tryDecodeNumericData(mutated, signature)!);
    assert.ok(fast.ok, 'the single-pass path never throws');
    if (fast.value) {
      fastTaken++;
      assertSameOutcome(fast, expected, `mutation ${i} (single-pass)`);
    }
  }
  assert.ok(fastTaken > 300, `the single-pass path decoded only ${fastTaken} mutated bodies`);
});

test('exponents far beyond any range, and digits far beyond 19, read as JSON.parse reads them', () => {
  const signature = oneInput('FP64');
  const zeros = (n: number) => '0'.repeat(n);
  const tokens = [
    `0.${zeros(100_005)}1e1000003`, `0.${zeros(1_000_005)}1e1000003`, `1${zeros(400)}e-400`, `-1${zeros(400)}.5e-401`, `1e${'9'.repeat(30)}`, `1e-${'9'.repeat(30)}`, `0e${'9'.repeat(30)}`,
    `1.${'3'.repeat(2000)}`, `-0.${zeros(330)}1e330`, `1e-${zeros(20)}5`,
  ];
  for (const token of tokens) {
    const c = { body: tokensBody('FP64', [...Array<string>(300).fill('1'), token]), signature };
    assertSameOutcome(outcomeOf(() => decodeJsonInferBody(c.body, signature)), outcomeOf(() => general(c)), token.slice(0, 40));
  }
  const ok = tokensBody('FP64', [`0.${zeros(1_000_005)}1e1000003`, ...Array<string>(300).fill('1')]);
  assert.equal((decodeJsonInferBody(ok, signature).feeds.v!.data as Float64Array)[0], 1e-3);
});
