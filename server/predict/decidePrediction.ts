import type { CardOutput } from './modelCard.js';

/** One row's answer as a business app reads it. */
export type Prediction =
  | { label: string | null; score: number; scores: Record<string, number> }
  | { value: number }
  | { values: number[] };

/**
 * A row's scores → its prediction. Without labels the model is a regression: its value(s).
 * With labels, the decision: labels that have a threshold are checked in the card's label order,
 * and the first whose score reaches its threshold is the label (a fraud model says "fraud" from 0.3
 * on); if none does, the highest-scoring label without a threshold wins; if every label has one
 * and none is reached, the label is null (no decision). `score` is the chosen label's score (the
 * highest score when there is no decision).
 */
export function decidePrediction(output: CardOutput, rowScores: readonly number[]): Prediction {
  const { labels, thresholds } = output;
  if (!labels) return rowScores.length === 1 ? { value: rowScores[0]! } : { values: [...rowScores] };
  // One score per row with two labels: the probability of the second (positive) label.
  const values = rowScores.length === 1 && labels.length === 2 ? [1 - rowScores[0]!, rowScores[0]!] : rowScores;
  const scores = Object.fromEntries(labels.map((label, k) => [label, values[k]!]));
  const reached = labels.find((label) => thresholds[label] !== undefined && scores[label]! >= thresholds[label]!);
  const open = labels.filter((label) => thresholds[label] === undefined);
  const best = (candidates: readonly string[]) => candidates.reduce((a, b) => (scores[b]! > scores[a]! ? b : a));
  const label = reached ?? (open.length > 0 ? best(open) : null);
  return { label, score: label === null ? Math.max(...values) : scores[label]!, scores };
}
