import { Attributes, Span, SpanStatusCode, trace } from '@opentelemetry/api';

/** Instrumentation scope of kadfleet's manual spans. */
export const TRACER_NAME = 'kadfleet';

/**
 * Runs `fn` inside an active span named `name` (for DHT operations: `dht.findNode`, `crawl.run`, …). A thrown or
 * rejected error is recorded on the span, which gets status ERROR, and re-thrown. Costs almost nothing when
 * tracing is off (the API's no-op tracer).
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      span.recordException(error);
      const code = (err as { code?: unknown } | null)?.code;
      if (typeof code === 'string') span.setAttribute('error.type', code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The active span's ids for log correlation, or an empty object when no sampled span is active. */
export function activeTraceIds(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const ctx = span.spanContext();
  if (!trace.isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}
