import { Controller, Get, Logger } from '@nestjs/common';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { PlatformError } from '../errors';
import { createPlatformTestApp, PlatformTestApp } from '../testing/platform-test-app';
import { httpGet } from '../testing/http-request';
import { startTracing, TracingHandle } from './start-tracing';
import { tracingEnabledByEnv } from './tracing-enabled';
import { withSpan } from './with-span';

@Controller('lookup')
class LookupController {
  @Get()
  lookup() {
    return withSpan('dht.findNode', { 'dht.target': 'abcd' }, async () => {
      new Logger('Lookup').log('looking up abcd');
      return { found: 20 };
    });
  }
}

describe('tracing with an in-memory exporter', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: TracingHandle;
  let t: PlatformTestApp;

  beforeAll(async () => {
    tracing = startTracing({
      serviceName: 'trace-test',
      env: {},
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    t = await createPlatformTestApp({ controllers: [LookupController] });
  });
  afterAll(async () => {
    await t?.close();
    await tracing?.shutdown();
  });
  beforeEach(() => exporter.reset());

  // HTTP server spans need the http module patched, which jest's module sandbox prevents; the child-process
  // test in main-helpers.spec.ts checks them (and the OTLP export) for real.
  it('records a manual DHT span and stamps logs written inside it with its trace and span ids', async () => {
    expect(tracing.enabled).toBe(true);
    expect((await httpGet(`${t.url}/lookup`)).status).toBe(200);

    const manual = exporter.getFinishedSpans().find((s) => s.name === 'dht.findNode');
    expect(manual?.attributes['dht.target']).toBe('abcd');
    expect(manual?.status.code).toBe(SpanStatusCode.UNSET);
    expect(manual?.resource.attributes['service.name']).toBe('trace-test');

    const line = t.logs.find((l) => l.msg === 'looking up abcd');
    expect(line?.trace_id).toBe(manual?.spanContext().traceId);
    expect(line?.span_id).toBe(manual?.spanContext().spanId);
  });

  it('nests spans: an operation inside another is its child', async () => {
    await withSpan('crawl.run', {}, () => withSpan('dht.findNode', { 'dht.target': 'ef' }, () => 1));
    const spans = exporter.getFinishedSpans();
    const parent = spans.find((s) => s.name === 'crawl.run');
    const child = spans.find((s) => s.name === 'dht.findNode');
    expect(child?.spanContext().traceId).toBe(parent?.spanContext().traceId);
    expect(child?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
  });

  it('records an exception, its code and ERROR status when the operation fails, and rethrows', async () => {
    const failure = new PlatformError('lookup deadline', 'CHECK_TIMEOUT');
    await expect(
      withSpan('dht.findValue', {}, async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    const span = exporter.getFinishedSpans().find((s) => s.name === 'dht.findValue');
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'lookup deadline' });
    expect(span?.attributes['error.type']).toBe('CHECK_TIMEOUT');
    expect(span?.events.map((e) => e.name)).toEqual(['exception']);
  });
});

describe('tracing switched by OTEL_* variables', () => {
  it('is off by default, so nothing tries to reach a collector', () => {
    expect(tracingEnabledByEnv({})).toBe(false);
    const handle = startTracing({ serviceName: 'x', env: {} });
    expect(handle.enabled).toBe(false);
    // The API stays a no-op: spans are not recording.
    expect(trace.getTracer('t').startSpan('s').isRecording()).toBe(false);
  });

  it('is on with an OTLP endpoint or a traces exporter, and off when disabled', () => {
    expect(tracingEnabledByEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(
      tracingEnabledByEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }),
    ).toBe(true);
    expect(tracingEnabledByEnv({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(
      tracingEnabledByEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }),
    ).toBe(false);
    expect(
      tracingEnabledByEnv({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }),
    ).toBe(false);
    expect(tracingEnabledByEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBe(false);
  });
});
