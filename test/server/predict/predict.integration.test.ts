/**
 * Named-feature predictions (issue 11) against a real server: model cards (inferred, saved,
 * refused, per version), POST /api/predict for each feature type, labels and thresholds, every
 * kind of refusal, the same answer as the OIP v2 path, keys, experiments, precision and logs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { allTypesModel, fraudScoreModel, linearClassifierModel, WORD_CODES } from '../../fixtures/predictModels.js';
import { GENTOO_FEATURES, startTestServer, type TestServer } from '../../helpers/testServer.js';

let server: TestServer;
before(async () => { server = await startTestServer(); });
after(() => server.cleanup());

interface Prediction { label?: string | null; score?: number; scores?: Record<string, number>; value?: number; values?: number[] }
interface PredictAnswer { predictions: Prediction[]; model: string; version: string; precision: string; variant: string | null; request_id?: string }

const GENTOO = { beak_length_mm: GENTOO_FEATURES[0], beak_depth_mm: GENTOO_FEATURES[1], flipper_length_mm: GENTOO_FEATURES[2], body_mass_g: GENTOO_FEATURES[3] };
const ADELIE = { beak_length_mm: 39.1, beak_depth_mm: 18.7, flipper_length_mm: 181, body_mass_g: 3750 };

async function predict(model: string, json: unknown, options: { key?: string; path?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: PredictAnswer & { error?: string }; headers: Headers }> {
  const response = await server.request('POST', options.path ?? `/api/predict/${model}`, { json, ...(options.key ? { key: options.key } : {}), ...(options.headers ? { headers: options.headers } : {}) });
  return { status: response.status, body: (await response.json()) as PredictAnswer & { error?: string }, headers: response.headers };
}

async function ok(model: string, json: unknown): Promise<PredictAnswer> {
  const answer = await predict(model, json);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

async function refused(model: string, json: unknown, status: number, pattern: RegExp | string): Promise<void> {
  const answer = await predict(model, json);
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  if (typeof pattern === 'string') assert.ok(answer.body.error?.includes(pattern), answer.body.error);
  else assert.match(answer.body.error ?? '', pattern);
}

async function upload(name: string, bytes: Uint8Array, activate = false): Promise<string> {
  const response = await server.request('POST', `/api/models/${name}/versions?quantize=false${activate ? '&activate=true' : ''}`, { body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { version: string }).version;
}

async function saveCard(path: string, card: unknown, status = 200): Promise<{ error?: string; scope?: string }> {
  const response = await server.request('PUT', path, { json: card });
  const body = (await response.json()) as { error?: string; scope?: string };
  assert.equal(response.status, status, JSON.stringify(body));
  return body;
}

/** The OIP v2 path's answer for the same input tensors. */
async function oip(model: string, inputs: unknown[], version?: string): Promise<{ outputs: { name: string; data: unknown[] }[]; parameters: { precision: string } }> {
  const response = await server.request('POST', version ? `/v2/models/${model}/versions/${version}/infer` : `/v2/models/${model}/infer`, { json: { inputs } });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as { outputs: { name: string; data: unknown[] }[]; parameters: { precision: string } };
}

async function createKey(scopes: string[]): Promise<string> {
  const response = await server.request('POST', '/api/keys', { json: { name: `k-${scopes.join('-')}`, scopes } });
  assert.equal(response.status, 201);
  return ((await response.json()) as { key: string }).key;
}

describe('the bundled model answers named features', () => {
  test('its card is installed with it, and rows become labels with the OIP path\'s exact scores', async () => {
    const card = (await (await server.request('GET', '/api/models/mlp/card')).json()) as { scope: string; updated_by: string; card: { features: { name: string }[]; output: { labels: string[] } } };
    assert.equal(card.scope, 'model');
    assert.equal(card.updated_by, 'bundled');
    assert.deepEqual(card.card.features.map((f) => f.name), ['beak_length_mm', 'beak_depth_mm', 'flipper_length_mm', 'body_mass_g']);
    assert.deepEqual(card.card.output.labels, ['Adelie', 'Chinstrap', 'Gentoo']);

    const answer = await ok('mlp', { rows: [GENTOO, ADELIE] });
    assert.deepEqual(answer.predictions.map((p) => p.label), ['Gentoo', 'Adelie']);
    assert.equal(answer.model, 'mlp');
    assert.equal(answer.version, '1');
    assert.equal(answer.variant, null);
    const direct = await oip('mlp', [{ name: 'features', datatype: 'FP32', shape: [2, 4], data: [...GENTOO_FEATURES, 39.1, 18.7, 181, 3750] }]);
    const probabilities = direct.outputs.find((o) => o.name === 'probabilities')!.data as number[];
    assert.deepEqual(answer.predictions.map((p) => Object.values(p.scores!)), [probabilities.slice(0, 3), probabilities.slice(3, 6)]);
    assert.equal(answer.predictions[0]!.score, Math.max(...probabilities.slice(0, 3)));
    assert.equal(answer.precision, direct.parameters.precision);
  });

  test('a business app\'s model-scoped key predicts and reads the card, but cannot edit it or reach other models', async () => {
    const key = await createKey(['infer:mlp']);
    assert.equal((await predict('mlp', { rows: [GENTOO] }, { key })).status, 200);
    assert.equal((await server.request('GET', '/api/predict/mlp/card', { key })).status, 200);
    assert.equal((await server.request('PUT', '/api/models/mlp/card', { key, json: {} })).status, 403);
    assert.equal((await predict('other', { rows: [GENTOO] }, { key })).status, 403);
    assert.equal((await predict('mlp', { rows: [GENTOO] }, { key: await createKey(['feedback']) })).status, 403);
    assert.equal((await server.request('POST', '/api/predict/mlp', { key: null, json: { rows: [GENTOO] } })).status, 401);
  });

  test('bad bodies are refused with the reason', async () => {
    await refused('mlp', { rows: [] }, 400, /rows: /);
    await refused('mlp', { records: [GENTOO] }, 400, /invalid request/);
    await refused('mlp', { rows: [{ ...GENTOO, body_mass_g: 'heavy' }, { ...GENTOO, flipper: 3 }] }, 400, 'rows[0].body_mass_g: expected a number, got "heavy"; rows[1].flipper: unknown feature');
    await refused('nope', { rows: [GENTOO] }, 404, "model 'nope' not found");
    const xml = await server.request('POST', '/api/predict/mlp', { body: '<rows/>', headers: { 'content-type': 'application/xml' } });
    assert.equal(xml.status, 415);
    const broken = await server.request('POST', '/api/predict/mlp', { body: '{"rows": [', headers: { 'content-type': 'application/json' } });
    assert.equal(broken.status, 400);
  });

  test('more rows than predict_max_rows are sent to the jobs API', async () => {
    await server.request('PUT', '/api/settings', { json: { predict_max_rows: 2 } });
    try {
      await refused('mlp', { rows: [GENTOO, GENTOO, GENTOO] }, 413, /3 rows in one call; the limit is 2 .*POST \/api\/jobs\?kind=predict/);
      await ok('mlp', { rows: [GENTOO, GENTOO] });
    } finally {
      await server.request('PUT', '/api/settings', { json: { predict_max_rows: null } });
    }
  });

  test('predictions are logged like OIP requests, and follow the served precision (int8)', async () => {
    // The bundled model's int8 candidate is judged at start; an override needs the finished comparison.
    for (let i = 0; i < 300; i++) {
      const status = ((await (await server.request('GET', '/api/models/mlp/versions/1/quantization')).json()) as { status: string }).status;
      if (status === 'done' || status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const forced = await server.request('PUT', '/api/models/mlp/versions/1/precision', { json: { precision: 'int8' } });
    assert.equal(forced.status, 200, await forced.clone().text());
    try {
      const answer = await ok('mlp', { rows: [GENTOO] });
      assert.equal(answer.precision, 'int8');
      const direct = await oip('mlp', [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: GENTOO_FEATURES }]);
      assert.equal(direct.parameters.precision, 'int8');
      assert.deepEqual(Object.values(answer.predictions[0]!.scores!), direct.outputs.find((o) => o.name === 'probabilities')!.data);
    } finally {
      await server.request('PUT', '/api/models/mlp/versions/1/precision', { json: { precision: 'auto' } });
    }
    await refused('mlp', { rows: [{ beak_length_mm: 1 }] }, 400, /missing/);
    let logs: { status: number }[] = [];
    for (let i = 0; i < 40 && !(logs.some((l) => l.status === 200) && logs.some((l) => l.status === 400)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      logs = ((await (await server.request('GET', '/api/logs?model=mlp&limit=200')).json()) as { logs: { status: number }[] }).logs;
    }
    assert.ok(logs.some((l) => l.status === 200) && logs.some((l) => l.status === 400), 'answered and refused predictions are in the request log');
  });
});

describe('cards for uploaded models', () => {
  let version: string;
  before(async () => { version = await upload('alltypes', allTypesModel()); });

  const fullCard = {
    description: 'Echoes its features',
    owner: 'tests',
    intended_use: 'checking where features land',
    features: [
      { name: 'amount', type: 'number', input: 'tabular', column: 0 },
      { name: 'items', type: 'integer', input: 'tabular', column: 1, default: 1 },
      { name: 'new_customer', type: 'boolean', input: 'tabular', column: 2, default: false },
      { name: 'tier', type: 'category', values: ['bronze', 'silver', 'gold'], encoding: 'index', input: 'tabular', column: 3 },
      { name: 'channel', type: 'category', values: ['web', 'shop', 'phone'], encoding: 'one_hot', input: 'tabular', column: 4 },
      { name: 'greeting', type: 'text', input: 'words', column: 0, default: 'hello' },
      { name: 'country', type: 'category', values: ['AE', 'SA', 'OM'], encoding: 'string', input: 'words', column: 1 },
    ],
    output: { scores: 'echo' },
  };

  test('a model without a card takes no named features until one is saved', async () => {
    await refused('alltypes', { rows: [{}] }, 409, /has no card, so it takes no named features/);
    assert.equal((await server.request('GET', '/api/models/alltypes/card')).status, 404);
  });

  test('a card is inferred from the signature as a starting point', async () => {
    const inferred = (await (await server.request('GET', '/api/models/alltypes/card/inferred')).json()) as { version: string; card: { features: { name: string; type: string }[]; output: { scores: string } }; notes: string[] };
    assert.equal(inferred.version, version);
    assert.deepEqual(inferred.card.features.map((f) => `${f.name}:${f.type}`), [...Array.from({ length: 7 }, (_, i) => `tabular_${i}:number`), 'words_0:text', 'words_1:text']);
    assert.equal(inferred.card.output.scores, 'echo');
    assert.ok(inferred.notes.some((n) => n.includes("input 'tabular'")));
    // The starting point fits the model as it is.
    await saveCard('/api/models/alltypes/card', inferred.card);
    await server.request('DELETE', '/api/models/alltypes/card');
  });

  test('a card that does not fit the model is refused with every reason', async () => {
    const bad = { ...fullCard, features: fullCard.features.filter((f) => f.name !== 'items').map((f) => (f.name === 'greeting' ? { name: 'greeting', type: 'number', input: 'words', column: 0 } : f)), output: { scores: 'echo', labels: ['a', 'b'] } };
    const body = await saveCard('/api/models/alltypes/card', bad, 422);
    assert.match(body.error!, new RegExp(`does not fit model 'alltypes' version ${version}`));
    assert.match(body.error!, /column 1 of input 'tabular' .* is fed by no feature/);
    assert.match(body.error!, /feature 'greeting' \(number\) needs a numeric input; 'words' is BYTES/);
    assert.match(body.error!, /gives 9 scores per row .* the card has 2 labels/);
    assert.equal((await saveCard('/api/models/alltypes/card', { features: 'none' }, 400)).error?.startsWith('invalid request: features'), true);
  });

  test('each feature type lands where the card says (round trip through the model)', async () => {
    await saveCard('/api/models/alltypes/card', fullCard);
    const answer = await ok('alltypes', {
      rows: [
        { amount: 120.5, items: 3, new_customer: true, tier: 'gold', channel: 'shop', greeting: 'hello', country: 'SA' },
        { amount: -2, tier: 'bronze', channel: 'phone', country: 'OM' },
      ],
    });
    assert.deepEqual(answer.predictions, [
      { values: [120.5, 3, 1, 2, 0, 1, 0, WORD_CODES.hello, WORD_CODES.SA] },
      { values: [-2, 1, 0, 0, 0, 0, 1, WORD_CODES.hello, WORD_CODES.OM] },
    ]);
    // The OIP path gives the same for the same tensors.
    const direct = await oip('alltypes', [
      { name: 'tabular', datatype: 'FP32', shape: [1, 7], data: [120.5, 3, 1, 2, 0, 1, 0] },
      { name: 'words', datatype: 'BYTES', shape: [1, 2], data: ['hello', 'SA'] },
    ]);
    assert.deepEqual(direct.outputs[0]!.data, answer.predictions[0]!.values);
    await refused('alltypes', { rows: [{}, {}, {}, { amount: 1, tier: 'gold', channel: 'web', country: 'US' }] }, 400, 'rows[3].country: expected one of AE, SA, OM, got "US"');
    await refused('alltypes', { rows: [{ amount: 1, items: 2.5, tier: 'gold', channel: 'web', country: 'AE' }] }, 400, 'rows[0].items: expected an integer, got 2.5');
    await refused('alltypes', { rows: [{ amount: 1, tier: 'gold', channel: 'fax', country: 'AE' }] }, 400, 'rows[0].channel: expected one of web, shop, phone, got "fax"');
    const audit = (await (await server.request('GET', '/api/audit?limit=50')).json()) as { entries: { action: string; target: string }[] };
    assert.ok(audit.entries.some((e) => e.action === 'model.card' && e.target === 'alltypes'));
    assert.ok(audit.entries.some((e) => e.action === 'model.card_delete' && e.target === 'alltypes'));
  });

  test('labels and a decision threshold on a one-score binary model', async () => {
    await upload('fraud', fraudScoreModel());
    await saveCard('/api/models/fraud/card', { features: [{ name: 'amount', type: 'number', input: 'amount' }], output: { scores: 'p', labels: ['ok', 'fraud'], thresholds: { fraud: 0.3 } } });
    const answer = await ok('fraud', { rows: [{ amount: 94 }, { amount: 90 }, { amount: 130 }] });
    assert.deepEqual(answer.predictions.map((p) => p.label), ['fraud', 'ok', 'fraud'], '0.354 ≥ 0.3 is fraud though ok scores higher; 0.269 is not');
    const direct = await oip('fraud', [{ name: 'amount', datatype: 'FP32', shape: [3, 1], data: [94, 90, 130] }]);
    assert.deepEqual(answer.predictions.map((p) => p.scores!.fraud), direct.outputs[0]!.data);
    assert.deepEqual(answer.predictions.map((p) => p.score), [answer.predictions[0]!.scores!.fraud, answer.predictions[1]!.scores!.ok, answer.predictions[2]!.scores!.fraud]);
  });

  test('ai.onnx.ml class labels are read from the graph; the card\'s label is the model\'s own', async () => {
    await upload('linear', linearClassifierModel());
    const inferred = (await (await server.request('GET', '/api/models/linear/card/inferred')).json()) as { card: { features: { name: string }[]; output: { scores: string; labels: string[] } } };
    assert.equal(inferred.card.output.scores, 'scores');
    assert.deepEqual(inferred.card.output.labels, ['fraud', 'ok']);
    const card = { ...inferred.card, features: [{ name: 'risk', type: 'number', input: 'x', column: 0 }, { name: 'trust', type: 'number', input: 'x', column: 1 }] };
    await saveCard('/api/models/linear/card', card);
    const answer = await ok('linear', { rows: [{ risk: 3, trust: 0 }, { risk: 0.5, trust: 2 }] });
    const direct = await oip('linear', [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [3, 0, 0.5, 2] }]);
    assert.deepEqual(answer.predictions.map((p) => p.label), direct.outputs.find((o) => o.name === 'label')!.data);
    assert.deepEqual(answer.predictions.map((p) => p.label), ['fraud', 'ok']);
  });

  test('a version with other inputs needs its own card; the model card still serves the versions it fits', async () => {
    await upload('swap', fraudScoreModel());
    await saveCard('/api/models/swap/card', { features: [{ name: 'amount', type: 'number', input: 'amount' }], output: { scores: 'p', labels: ['ok', 'fraud'] } });
    const v2 = await upload('swap', linearClassifierModel(), true);
    await refused('swap', { rows: [{ amount: 94 }] }, 409, new RegExp(`card of model 'swap' does not fit version ${v2}, which answers now: .*no input 'amount'`));
    const own = await saveCard(`/api/models/swap/versions/${v2}/card`, { features: [{ name: 'risk', type: 'number', input: 'x', column: 0 }, { name: 'trust', type: 'number', input: 'x', column: 1 }], output: { scores: 'scores', labels: ['fraud', 'ok'] } });
    assert.equal(own.scope, 'version');
    assert.equal((await ok('swap', { rows: [{ risk: 4, trust: 0 }] })).predictions[0]!.label, 'fraud');
    const pinned = await predict('swap', { rows: [{ amount: 130 }] }, { path: '/api/predict/swap/versions/1' });
    assert.equal(pinned.status, 200, JSON.stringify(pinned.body));
    assert.equal(pinned.body.version, '1');
    // Saving the model's card again is checked against v1 only (v2 has its own).
    await saveCard('/api/models/swap/card', { features: [{ name: 'amount', type: 'number', input: 'amount' }], output: { scores: 'p', labels: ['fine', 'fraud'] } });
    assert.equal((await server.request('DELETE', `/api/models/swap/versions/${v2}/card`)).status, 200);
    assert.equal((await server.request('DELETE', `/api/models/swap/versions/${v2}/card`)).status, 404);
  });

  test('an A/B experiment routes unversioned predictions and names the variant', async () => {
    assert.equal(await upload('abtest', fraudScoreModel(), true), '1');
    assert.equal(await upload('abtest', fraudScoreModel()), '2');
    await saveCard('/api/models/abtest/card', { features: [{ name: 'amount', type: 'number', input: 'amount' }], output: { scores: 'p', labels: ['ok', 'fraud'] } });
    const created = await server.request('POST', '/api/experiments', { json: { name: 'cards', model: 'abtest', variants: [{ name: 'control', version: '1' }, { name: 'treatment', version: '2' }] } });
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = (await created.json()) as { id: string };
    assert.equal((await server.request('POST', `/api/experiments/${id}/start`)).status, 200);
    const seen = new Set<string>();
    for (let unit = 0; unit < 40 && seen.size < 2; unit++) {
      const answer = await predict('abtest', { rows: [{ amount: 100 }] }, { headers: { 'x-unit-id': `customer-${unit}` } });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.variant, answer.headers.get('inferbox-variant'));
      assert.equal(answer.body.request_id, answer.headers.get('x-request-id'));
      assert.equal(answer.body.version, answer.body.variant === `${id}/control` ? '1' : '2');
      seen.add(answer.body.variant!);
    }
    assert.deepEqual([...seen].sort(), [`${id}/control`, `${id}/treatment`]);
    await server.request('POST', `/api/experiments/${id}/stop`);
  });
});
