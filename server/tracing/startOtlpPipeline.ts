import type { Tracer } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** A tracer whose finished spans go, in batches, to one OTLP/HTTP endpoint. */
export interface OtlpPipeline {
  tracer: Tracer;
  /** Exports what is buffered, then stops. */
  shutdown(): Promise<void>;
}

export interface OtlpPipelineOptions {
  /** Full OTLP/HTTP traces URL, already checked to be on the LAN (`otlp_traces_endpoint`). */
  endpoint: string;
  /** Share of new traces (no caller's decision) that are recorded. */
  sampleRatio: number;
  serviceVersion: string;
  /** An export that failed (collector down, refused): the spans of that batch are dropped. */
  onExportError: (error: Error) => void;
}

/** Export deadline, ms: a collector that hangs must not hold the server's stop for long. */
const EXPORT_TIMEOUT_MS = 3000;

/**
 * Builds the OpenTelemetry SDK pipeline (sampler → batch processor → OTLP/HTTP JSON exporter).
 * The SDK and exporter are imported here, dynamically, only when the admin configures an
 * endpoint: a server without one never loads them, and nothing can connect anywhere.
 */
export async function startOtlpPipeline(options: OtlpPipelineOptions): Promise<OtlpPipeline> {
  const [{ BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler }, { OTLPTraceExporter }, { resourceFromAttributes }, { ExportResultCode }] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
  ]);
  const otlp = new OTLPTraceExporter({ url: options.endpoint, timeoutMillis: EXPORT_TIMEOUT_MS });
  // The SDK reports export failures only to its global diagnostics; this hands them to our log.
  const exporter: SpanExporter = {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      otlp.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) options.onExportError(result.error ?? new Error(`OTLP export to ${options.endpoint} failed`));
        done(result);
      });
    },
    shutdown: () => otlp.shutdown(),
    forceFlush: () => otlp.forceFlush(),
  };
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'inferbox', 'service.version': options.serviceVersion }),
    // A caller's sampled flag decides for its trace; new traces are sampled at the ratio.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }),
    // Every second, up to 1024 spans per export; beyond 8192 waiting spans new ones are dropped
    // (six spans per request: lower tracing_sample_ratio for sustained high rates).
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000, maxExportBatchSize: 1024, maxQueueSize: 8192, exportTimeoutMillis: EXPORT_TIMEOUT_MS })],
  });
  return { tracer: provider.getTracer('inferbox', options.serviceVersion), shutdown: () => provider.shutdown() };
}
