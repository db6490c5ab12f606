import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import '../../server/runtime/disableOrtTelemetry.js'; // onnxruntime's telemetry off before it loads
import * as ort from 'onnxruntime-node';
import {
  DATASET_SOURCE, EPOCHS, FEATURES, HELDOUT_FRACTION, LABELS, SEED,
  loadPenguins, onnxAccuracy, predict, servingCard, sha256, stratifiedSplit, trainDefaultModel,
} from '../../models/mlp/train.js';

const { onnx } = onnxProto;
const modelPath = fileURLToPath(new URL('../../models/mlp/model.onnx', import.meta.url));
const cardPath = fileURLToPath(new URL('../../models/mlp/model.json', import.meta.url));
const committed = readFileSync(modelPath);
const card = JSON.parse(readFileSync(cardPath, 'utf8'));

describe('bundled mlp model', () => {
  let session: ort.InferenceSession;
  before(async () => {
    session = await ort.InferenceSession.create(modelPath);
  });
  after(() => session.release());

  test('declares features [batch, 4] → probabilities [batch, 3] and label [batch]', () => {
    assert.deepEqual(session.inputMetadata, [{ name: 'features', isTensor: true, type: 'float32', shape: ['batch', 4] }]);
    assert.deepEqual(session.outputMetadata, [
      { name: 'probabilities', isTensor: true, type: 'float32', shape: ['batch', 3] },
      { name: 'label', isTensor: true, type: 'int64', shape: ['batch'] },
    ]);
  });

  test('carries opset 17, IR 8, producer and metadata_props', () => {
    // toObject with longs: Number turns the int64 fields (Long when decoded) into plain numbers.
    const model: OnnxTypes.IModelProto = onnx.ModelProto.toObject(onnx.ModelProto.decode(committed), { longs: Number });
    assert.equal(model.irVersion, 8);
    assert.deepEqual(model.opsetImport, [{ domain: '', version: 17 }]);
    assert.equal(model.producerName, 'inferbox-models');
    const metadata = Object.fromEntries(model.metadataProps!.map((p) => [p.key, p.value]));
    assert.deepEqual(JSON.parse(metadata['labels']!), ['Adelie', 'Chinstrap', 'Gentoo']);
    assert.deepEqual(JSON.parse(metadata['features']!), ['beak_length_mm', 'beak_depth_mm', 'flipper_length_mm', 'body_mass_g']);
    assert.match(metadata['description']!, /penguin species.*Palmer penguins/);
    assert.doesNotMatch(metadata['description']!, /\n/);
  });

  test('takes raw measurements and returns probabilities that agree with the label', async () => {
    // A typical Gentoo and a typical Adelie, in millimetres and grams.
    const rows = [[47.5, 15.0, 218, 5200], [38.8, 18.3, 190, 3700]];
    const { probabilities, label } = await session.run({
      features: new ort.Tensor('float32', Float32Array.from(rows.flat()), [2, 4]),
    });
    assert.deepEqual(label!.data, new BigInt64Array([2n, 0n]));
    const p = probabilities!.data as Float32Array;
    for (const row of [p.subarray(0, 3), p.subarray(3, 6)]) {
      assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5);
    }
  });
});

describe('model.json', () => {
  test('describes the dataset, features and labels', () => {
    const dataset = loadPenguins();
    const split = stratifiedSplit(dataset.labels, HELDOUT_FRACTION, SEED);
    assert.equal(card.name, 'mlp');
    assert.deepEqual(card.dataset, {
      name: 'Palmer penguins',
      source: DATASET_SOURCE,
      rows_used: dataset.labels.length,
      train_rows: split.train.length,
      heldout_rows: split.heldout.length,
    });
    assert.deepEqual(card.features, FEATURES.map(({ name, unit }) => ({ name, unit })));
    assert.deepEqual(card.labels, LABELS);
    assert.equal(card.seed, SEED);
    assert.equal(card.epochs, EPOCHS);
  });

  test('held-out accuracy, recomputed with onnxruntime on the exported split, matches and is at least 0.95', async () => {
    const dataset = loadPenguins();
    const { heldout } = stratifiedSplit(dataset.labels, HELDOUT_FRACTION, SEED);
    const accuracy = await onnxAccuracy(
      modelPath,
      heldout.map((i) => dataset.features[i]!),
      heldout.map((i) => dataset.labels[i]!),
    );
    assert.equal(accuracy, card.heldout_accuracy);
    assert.ok(accuracy >= 0.95, `held-out accuracy ${accuracy}`);
  });

  test('sha256 matches model.onnx', () => {
    assert.equal(card.sha256, sha256(committed));
  });
});

describe('training', () => {
  test('the split is stratified, disjoint and covers every row', () => {
    const { labels } = loadPenguins();
    const { train, heldout } = stratifiedSplit(labels, HELDOUT_FRACTION, SEED);
    assert.deepEqual([...train, ...heldout].sort((a, b) => a - b), labels.map((_, i) => i));
    LABELS.forEach((_, label) => {
      const total = labels.filter((l) => l === label).length;
      assert.equal(heldout.filter((i) => labels[i] === label).length, Math.round(total * HELDOUT_FRACTION));
    });
  });

  test('is deterministic and reproduces the committed model.onnx byte for byte', () => {
    const first = trainDefaultModel().onnx;
    const second = trainDefaultModel().onnx;
    assert.deepEqual(first, second);
    assert.deepEqual(first, new Uint8Array(committed));
  });

  test('the exported float32 graph predicts what the float64 training network predicts', async () => {
    const { layers, standardizer, dataset } = trainDefaultModel();
    const session = await ort.InferenceSession.create(modelPath);
    try {
      const { features } = dataset;
      const { label } = await session.run({
        features: new ort.Tensor('float32', Float32Array.from(features.flat()), [features.length, 4]),
      });
      const expected = features.map((row) => BigInt(predict(layers, standardizer, row)));
      assert.deepEqual([...(label!.data as BigInt64Array)], expected);
    } finally {
      await session.release();
    }
  });
  test('the committed serving card is the one train.ts writes: features in input order, species as labels', () => {
    const committedCard = JSON.parse(readFileSync(fileURLToPath(new URL('../../models/mlp/card.json', import.meta.url)), 'utf8'));
    assert.deepEqual(committedCard, JSON.parse(JSON.stringify(servingCard())));
    assert.deepEqual(committedCard.features.map((f: { name: string; column: number }) => [f.name, f.column]), FEATURES.map((f, i) => [f.name, i]));
    assert.deepEqual(committedCard.output.labels, [...LABELS]);
  });
});
