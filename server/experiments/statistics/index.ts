export { type MetricSample } from './MetricSample.js';
export { compareMetric, type Comparison, type Interval, type VariantEstimate } from './compareMetric.js';
export { sampleRatioMismatch, type SampleRatioMismatch } from './sampleRatioMismatch.js';
export { sequentialGuardrail, type GuardrailResult } from './sequentialGuardrail.js';
export { StatisticsInputError } from './StatisticsInputError.js';
