import { inferboxError } from '../common/errors.js';
import { encodeRows, type EncodedRequest } from './encodeRows.js';
import type { PredictInput } from './PredictInput.js';
import type { CardPlan } from './planCard.js';
import { prepareImage } from './prepareImage.js';

const ONE_ROW = () => 'rows[0]';

/**
 * A prediction request → one OIP request for the version the plan belongs to: rows are checked
 * and encoded; images are decoded, resized and normalized first, as the card says.
 */
export async function encodePredictInput(plan: CardPlan, input: PredictInput, maxImagePixels: number): Promise<EncodedRequest> {
  if (input.kind === 'rows') {
    if (plan.maxRowsPerRun === 1 && input.rows.length > 1) {
      throw inferboxError('IBX_ERR_PREDICT_INPUT', `${input.rows.length} rows: this model takes one row per run (its input has a fixed batch of 1); send one row per call, or the rows as a prediction job`);
    }
    return encodeRows(plan, input.rows, { labelOf: (i) => `rows[${i}]` });
  }
  const images = plan.inputs.flatMap((i) => (i.kind === 'image' ? [i.feature] : []));
  if (input.kind === 'image') {
    if (images.length !== 1) {
      const why = images.length === 0 ? 'its card has no image feature' : `its card has ${images.length} image features (${images.map((f) => f.name).join(', ')}): send multipart/form-data with one part per image`;
      throw inferboxError('IBX_ERR_PREDICT_INPUT', `an image body needs a model with exactly one image feature; ${why}`);
    }
    const feature = images[0]!;
    return encodeRows(plan, [{ [feature.name]: await prepareImage(feature.name, input.bytes, feature.image, maxImagePixels) }], { labelOf: ONE_ROW });
  }
  const row: Record<string, unknown> = { ...input.fields };
  for (const [name, bytes] of Object.entries(input.files)) {
    const feature = images.find((f) => f.name === name);
    // A file for another feature is read as its text (a document for a text feature); encodeRows checks it like any field.
    row[name] = feature ? await prepareImage(name, bytes, feature.image, maxImagePixels) : bytes.toString('utf8');
  }
  return encodeRows(plan, [row], { labelOf: ONE_ROW, fromText: true });
}
