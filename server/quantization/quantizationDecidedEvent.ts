import type { QuantizationReport } from './QuantizationJobs.js';

/** How an int8 decision reads in a webhook (`quantization.decided`): the decision and the report's headline figures. */
export function quantizationDecidedEvent(model: string, version: string, report: QuantizationReport): Record<string, unknown> {
  return {
    model,
    version,
    decision: report.decision,
    int8_kept: report.decision === 'int8',
    served_precision: report.served_precision,
    precision_override: report.precision_override,
    reasons: report.reasons,
    validation: report.validation,
    unvalidated: report.unvalidated,
    samples: report.samples,
    agreement: report.agreement,
    cosine: report.cosine,
    max_abs_error: report.max_abs_error,
    fp32_median_ms: report.fp32_median_ms,
    int8_median_ms: report.int8_median_ms,
    speedup: report.speedup,
    speedup_interval: report.speedup_interval,
    fp32_bytes: report.fp32_bytes,
    int8_bytes: report.int8_bytes,
  };
}
