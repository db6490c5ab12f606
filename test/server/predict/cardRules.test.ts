/**
 * The card rules without a server: checking a card against a signature (planCard), turning rows
 * into tensors with every validation message (encodeRows), and deciding labels (decidePrediction).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TensorSpec } from '../../../server/common/datatypes.js';
import { decidePrediction } from '../../../server/predict/decidePrediction.js';
import { encodeRows } from '../../../server/predict/encodeRows.js';
import { ImagePixels } from '../../../server/predict/ImagePixels.js';
import { modelCardSchema } from '../../../server/predict/modelCard.js';
import { planCard, type CardPlan } from '../../../server/predict/planCard.js';

const signature = (inputs: TensorSpec[], outputs: TensorSpec[]) => ({ name: 'm', inputs, outputs });
const fraudSignature = signature(
  [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }, { name: 'words', datatype: 'BYTES', shape: [-1, 1] }],
  [{ name: 'p', datatype: 'FP32', shape: [-1, 2] }],
);
const fraudCard = modelCardSchema.parse({
  features: [
    { name: 'amount', type: 'number', input: 'x', column: 0 },
    { name: 'country', type: 'category', values: ['AE', 'SA', 'OM'], input: 'x', column: 1 },
    { name: 'new_customer', type: 'boolean', input: 'x', column: 2, default: false },
    { name: 'note', type: 'text', input: 'words', max_length: 10 },
  ],
  output: { scores: 'p', labels: ['ok', 'fraud'] },
});

function planOf(card: unknown, sig = fraudSignature): CardPlan {
  const result = planCard(modelCardSchema.parse(card), sig);
  assert.ok('plan' in result, JSON.stringify(result));
  return result.plan;
}

function problemsOf(card: unknown, sig = fraudSignature): string[] {
  const result = planCard(modelCardSchema.parse(card), sig);
  assert.ok('problems' in result, 'the card was accepted');
  return result.problems;
}

describe('planCard checks a card against the real signature', () => {
  test('a fitting card is planned, column by column', () => {
    const plan = planOf(fraudCard);
    assert.deepEqual(plan.inputs.map((i) => [i.spec.name, i.kind]), [['x', 'columns'], ['words', 'columns']]);
    assert.equal(plan.scores.width, 2);
    assert.equal(plan.maxRowsPerRun, undefined);
  });

  const cases: [string, (card: typeof fraudCard) => unknown, RegExp, typeof fraudSignature?][] = [
    ['an input the model lacks', (c) => ({ ...c, features: [...c.features, { name: 'extra', type: 'number', input: 'nope' }] }), /feature 'extra': the model has no input 'nope'/],
    ['a column no feature feeds', (c) => ({ ...c, features: c.features.filter((f) => f.name !== 'new_customer') }), /column 2 of input 'x' .* is fed by no feature/],
    ['two features on one column', (c) => ({ ...c, features: c.features.map((f) => (f.name === 'new_customer' ? { ...f, column: 1 } : f)) }), /column 1 of input 'x' is fed by both 'country' and 'new_customer'/],
    ['a column past the input', (c) => ({ ...c, features: c.features.map((f) => (f.name === 'new_customer' ? { ...f, column: 5 } : f)) }), /feeds column 5, but input 'x' has 3 columns/],
    ['text into a float input', (c) => ({ ...c, features: c.features.map((f) => (f.name === 'amount' ? { name: 'amount', type: 'text', input: 'x', column: 0 } : f)) }), /feature 'amount' \(text\) needs a BYTES \(string\) input; 'x' is FP32/],
    ['a number into a string input', (c) => ({ ...c, features: c.features.map((f) => (f.name === 'note' ? { name: 'note', type: 'number', input: 'words' } : f)) }), /feature 'note' \(number\) needs a numeric input; 'words' is BYTES/],
    ['a model input no feature feeds', (c) => ({ ...c, features: c.features.filter((f) => f.name !== 'note') }), /input 'words' \(BYTES \[-1,1\]\) is fed by no feature/],
    ['a feature named twice', (c) => ({ ...c, features: [...c.features, { name: 'amount', type: 'number', input: 'x', column: 0 }] }), /feature 'amount' is named twice/],
    ['a default outside the values', (c) => ({ ...c, features: c.features.map((f) => (f.name === 'country' ? { ...f, default: 'US' } : f)) }), /default 'US' is not one of its values/],
    ['a scores output the model lacks', (c) => ({ ...c, output: { scores: 'nope', labels: ['a', 'b'] } }), /output.scores: the model has no output 'nope'/],
    ['labels that do not match the score width', (c) => ({ ...c, output: { scores: 'p', labels: ['a', 'b', 'c'] } }), /gives 2 scores per row .* the card has 3 labels/],
    ['a threshold for an unknown label', (c) => ({ ...c, output: { scores: 'p', labels: ['ok', 'fraud'], thresholds: { spam: 0.5 } } }), /output.thresholds: 'spam' is not one of the labels/],
    ['an image on a tabular input', (c) => ({ ...c, features: [...c.features.slice(1), { name: 'amount', type: 'image', input: 'x', image: { width: 3, height: 3 } }] }), /images need an FP32 input|images need \[rows, C, H, W\]/],
  ];
  for (const [name, change, pattern] of cases) {
    test(`refuses ${name}, saying why`, () => {
      const problems = problemsOf(change(fraudCard));
      assert.ok(problems.some((p) => pattern.test(p)), problems.join(' | '));
    });
  }

  test('image features must match a fixed image size and channel count', () => {
    const imageSignature = signature([{ name: 'img', datatype: 'FP32', shape: [-1, 3, 48, -1] }], [{ name: 's', datatype: 'FP32', shape: [-1, 2] }]);
    const card = (image: object) => ({ features: [{ name: 'page', type: 'image', input: 'img', image }], output: { scores: 's', labels: ['0', '180'] } });
    assert.ok(planOf(card({ width: 192, height: 48 }), imageSignature));
    const problems = problemsOf(card({ width: 192, height: 32, channels: 'gray', mean: [0.5, 0.5] }), imageSignature);
    assert.ok(problems.some((p) => /is 48 pixels high; the card says 32/.test(p)), problems.join(' | '));
    assert.ok(problems.some((p) => /has 3 channels \(nchw\); the card says gray/.test(p)), problems.join(' | '));
    assert.ok(problems.some((p) => /mean has 2 values; give 1 or 1/.test(p)), problems.join(' | '));
  });

  test('a fixed batch of 1 limits a run to one row; other fixed first dimensions are refused', () => {
    const one = signature([{ name: 'x', datatype: 'FP32', shape: [1, 1] }], [{ name: 'y', datatype: 'FP32', shape: [1, 1] }]);
    const card = { features: [{ name: 'a', type: 'number', input: 'x' }], output: { scores: 'y' } };
    assert.equal(planOf(card, one).maxRowsPerRun, 1);
    const four = signature([{ name: 'x', datatype: 'FP32', shape: [4, 1] }], [{ name: 'y', datatype: 'FP32', shape: [4, 1] }]);
    assert.ok(problemsOf(card, four).some((p) => /first dimension must be the rows/.test(p)));
  });
});

describe('encodeRows checks rows and builds the tensors', () => {
  const plan = planOf(fraudCard);
  const encode = (rows: unknown[], fromText = false) => encodeRows(plan, rows, { labelOf: (i) => `rows[${i}]`, fromText });
  const refusal = (rows: unknown[], fromText = false) => {
    try {
      encode(rows, fromText);
    } catch (error) {
      assert.equal((error as { code?: string }).code, 'IBX_ERR_PREDICT_INPUT');
      return (error as Error).message;
    }
    assert.fail('the rows were accepted');
  };

  test('values land in their columns; a missing value takes its default; only the scores are asked for', () => {
    const { value, binary } = encode([{ amount: 120.5, country: 'SA', note: 'hi' }, { amount: 3, country: 'OM', new_customer: true, note: '' }]);
    assert.deepEqual(value.inputs, [
      { name: 'x', datatype: 'FP32', shape: [2, 3], data: [120.5, 1, 0, 3, 2, 1] },
      { name: 'words', datatype: 'BYTES', shape: [2, 1], data: ['hi', ''] },
    ]);
    assert.deepEqual(value.outputs, [{ name: 'p' }]);
    assert.equal(binary.length, 0);
  });

  test('text values (CSV cells, form fields) are parsed per type; an empty cell is missing', () => {
    const { value } = encode([{ amount: ' 7.5 ', country: 'AE', new_customer: 'yes', note: 'x' }, { amount: '1', country: 'AE', new_customer: '', note: 'y' }], true);
    assert.deepEqual(value.inputs[0]!.data, [7.5, 0, 1, 1, 0, 0]);
  });

  const messages: [string, unknown[], string, boolean?][] = [
    ['a category outside its values', [{}, {}, {}, { amount: 1, country: 'US', note: '' }], 'rows[3].country: expected one of AE, SA, OM, got "US"'],
    ['a number that is not one', [{ amount: 'lots', country: 'AE', note: '' }], 'rows[0].amount: expected a number, got "lots"'],
    ['a boolean that is not one', [{ amount: 1, country: 'AE', new_customer: 'maybe', note: '' }], 'rows[0].new_customer: expected true or false, got "maybe"'],
    ['a missing value without a default', [{ country: 'AE', note: '' }], 'rows[0].amount: missing (the feature has no default)'],
    ['an unknown feature', [{ amount: 1, country: 'AE', note: '', colour: 'red' }], 'rows[0].colour: unknown feature; the model takes amount, country, new_customer, note'],
    ['text over its length', [{ amount: 1, country: 'AE', note: 'a very long note' }], 'rows[0].note: longer than 10 characters'],
    ['text that is not a string', [{ amount: 1, country: 'AE', note: 5 }], 'rows[0].note: expected text, got 5'],
    ['a row that is not an object', [[1, 2, 3]], 'rows[0]: expected an object of feature values ({"name": value, …})'],
    ['a number that is not finite in a CSV cell', [{ amount: 'Infinity', country: 'AE', note: '' }], 'rows[0].amount: expected a number, got "Infinity"', true],
  ];
  for (const [name, rows, expected, fromText] of messages) {
    test(`names the row and feature for ${name}`, () => {
      const message = refusal(rows.map((r) => (Object.keys(r as object).length === 0 ? { amount: 1, country: 'AE', note: '' } : r)), fromText);
      assert.ok(message.includes(expected), message);
    });
  }

  test('every problem is listed, up to 20', () => {
    const message = refusal(Array.from({ length: 30 }, () => ({ amount: 'x', country: 'AE', note: '' })));
    assert.equal(message.split('; ').length, 21, message);
    assert.ok(message.endsWith('; …'));
  });

  test('an integer feature takes whole numbers only, and so does any number feeding an integer input', () => {
    const intSignature = signature([{ name: 'x', datatype: 'INT64', shape: [-1, 2] }], [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }]);
    const intPlan = planOf({ features: [{ name: 'n', type: 'integer', input: 'x', column: 0 }, { name: 'f', type: 'number', input: 'x', column: 1 }], output: { scores: 'y' } }, intSignature);
    assert.deepEqual(encodeRows(intPlan, [{ n: 3, f: 4 }], { labelOf: () => 'r' }).value.inputs[0]!.data, [3, 4]);
    assert.throws(() => encodeRows(intPlan, [{ n: 3.5, f: 4.5 }], { labelOf: () => 'r' }), /r\.n: expected an integer, got 3.5; r\.f: expected an integer, got 4.5/);
  });

  test('images go as binary FP32 data; in JSON rows they are refused with how to send them', () => {
    const imageSignature = signature([{ name: 'img', datatype: 'FP32', shape: [-1, 1, 2, 2] }], [{ name: 's', datatype: 'FP32', shape: [-1, 2] }]);
    const imagePlan = planOf({ features: [{ name: 'page', type: 'image', input: 'img', image: { width: 2, height: 2, channels: 'gray' } }], output: { scores: 's', labels: ['a', 'b'] } }, imageSignature);
    const { value, binary } = encodeRows(imagePlan, [{ page: new ImagePixels(new Float32Array([1, 2, 3, 4])) }], { labelOf: () => 'rows[0]' });
    assert.deepEqual(value.inputs, [{ name: 'img', datatype: 'FP32', shape: [1, 1, 2, 2], parameters: { binary_data_size: 16 } }]);
    assert.deepEqual([...new Float32Array(binary.buffer, binary.byteOffset, 4)], [1, 2, 3, 4]);
    assert.throws(() => encodeRows(imagePlan, [{ page: 'cat.png' }], { labelOf: () => 'rows[0]' }), /rows\[0\]\.page: images are sent as multipart\/form-data or as an image\/png or image\/jpeg body/);
  });
});

describe('decidePrediction applies labels and thresholds', () => {
  const output = (thresholds: Record<string, number>, labels = ['ok', 'fraud']) => ({ scores: 'p', labels, thresholds });

  test('without thresholds the highest score wins', () => {
    assert.deepEqual(decidePrediction(output({}), [0.7, 0.3]), { label: 'ok', score: 0.7, scores: { ok: 0.7, fraud: 0.3 } });
  });

  test('a label whose threshold is reached wins over a higher score', () => {
    assert.deepEqual(decidePrediction(output({ fraud: 0.25 }), [0.7, 0.3]), { label: 'fraud', score: 0.3, scores: { ok: 0.7, fraud: 0.3 } });
    assert.equal((decidePrediction(output({ fraud: 0.35 }), [0.7, 0.3]) as { label: string }).label, 'ok');
  });

  test('when every label has a threshold and none is reached there is no decision', () => {
    assert.deepEqual(decidePrediction(output({ ok: 0.9, fraud: 0.9 }), [0.6, 0.4]), { label: null, score: 0.6, scores: { ok: 0.6, fraud: 0.4 } });
  });

  test('one score with two labels is the second label\'s probability', () => {
    const p = decidePrediction(output({}), [0.8]) as { label: string; scores: Record<string, number> };
    assert.equal(p.label, 'fraud');
    assert.ok(Math.abs(p.scores.ok! - 0.2) < 1e-12);
  });

  test('without labels a row is a value (or values)', () => {
    assert.deepEqual(decidePrediction({ scores: 'y', thresholds: {} }, [42]), { value: 42 });
    assert.deepEqual(decidePrediction({ scores: 'y', thresholds: {} }, [1, 2]), { values: [1, 2] });
  });
});
