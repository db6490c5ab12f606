import { inferboxError } from '../common/errors.js';
import { decidePrediction, type Prediction } from './decidePrediction.js';
import type { CardPlan } from './planCard.js';

/** An OIP output as the data plane answers it (JSON data, row-major). */
interface OutputJson {
  name: string;
  shape: number[];
  data?: unknown[];
}

/** The scores output of an answered request → one prediction per row. */
export function predictionsFromOutputs(plan: CardPlan, outputs: readonly OutputJson[], model: string, version: string): Prediction[] {
  const scores = outputs.find((o) => o.name === plan.scores.spec.name);
  // The request asked for this output as JSON, so it is there; anything else is a bug.
  if (!scores?.data) throw new Error(`the answer has no JSON output '${plan.scores.spec.name}'`);
  const rows = scores.shape[0] ?? 0;
  const width = scores.shape.length === 1 ? 1 : scores.shape[1]!;
  const labels = plan.card.output.labels;
  // A dynamic score width is only known now: the card's labels must match it.
  if (labels && !(width === labels.length || (width === 1 && labels.length === 2))) {
    throw inferboxError('IBX_ERR_CARD_STALE', model, version, `output '${scores.name}' gave ${width} scores per row; the card has ${labels.length} labels`);
  }
  const data = scores.data as number[];
  return Array.from({ length: rows }, (_, r) => decidePrediction(plan.card.output, data.slice(r * width, (r + 1) * width)));
}
