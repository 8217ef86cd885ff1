/**
 * OpenTelemetry start-up. Call `startTracing()` as the FIRST statement of a service's main.ts, before NestJS,
 * express or ioredis are required, so the HTTP and ioredis instrumentations can patch them. Import this file
 * directly (not the platform barrel, which loads NestJS):
 *
 *   import { startTracing } from '../../../libs/platform/src/tracing/start-tracing';
 *   const tracing = startTracing({ serviceName: 'crawler' });
 *
 * This file imports only @opentelemetry/api; the SDK (≈0.5 s to load) is required lazily, only when tracing is on.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { PLATFORM_DEFAULTS } from '../defaults';
import { matchedRoute } from '../metrics/route-label';
import { tracingEnabledByEnv } from './tracing-enabled';

export interface TracingOptions {
  /** service.name of every span; OTEL_SERVICE_NAME, then SERVICE_NAME, override it as the OTel spec says. */
  serviceName: string;
  /** Environment to read OTEL_* from; process.env by default (the SDK's exporters read process.env too). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Span processors to use instead of the exporter the OTEL_* variables choose; giving them turns tracing on.
   * Tests pass `new SimpleSpanProcessor(new InMemorySpanExporter())`.
   */
  spanProcessors?: SpanProcessor[];
}

export interface TracingHandle {
  readonly enabled: boolean;
  /** Flushes pending spans and unregisters the SDK and its instrumentations. Idempotent. */
  shutdown(): Promise<void>;
}

const NOOP_HANDLE: TracingHandle = Object.freeze({ enabled: false, shutdown: async () => undefined });

let active: TracingHandle | null = null;

export function startTracing(opts: TracingOptions): TracingHandle {
  const env = opts.env ?? process.env;
  if (!opts.spanProcessors && !tracingEnabledByEnv(env)) return NOOP_HANDLE;
  // One SDK per process: the OpenTelemetry API keeps one global tracer provider.
  if (active) return active;

  /* eslint-disable @typescript-eslint/no-require-imports -- lazy: the SDK is loaded only when tracing is on */
  const { NodeSDK: Sdk } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { IORedisInstrumentation } =
    require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const instrumentations: Instrumentation[] = [
    new HttpInstrumentation({
      // Probes and scrapes arrive every few seconds; a span each would drown the traces people look for.
      ignoreIncomingRequestHook: (req) => isQuietPath(req.url),
      // Name server spans "GET /v1/peers/:id" like the metrics' route label (no express instrumentation here).
      applyCustomAttributesOnSpan: (span, request, response) => {
        const status = (response as { statusCode?: unknown }).statusCode;
        if (typeof status !== 'number' || !('route' in request)) return;
        const route = matchedRoute(request as Parameters<typeof matchedRoute>[0], status);
        if (route === undefined) return;
        span.setAttribute('http.route', route);
        span.updateName(`${(request as { method?: string }).method ?? 'GET'} ${route}`);
      },
    }),
    new IORedisInstrumentation(),
  ];
  const sdk: NodeSDK = new Sdk({
    serviceName: env.OTEL_SERVICE_NAME?.trim() || env.SERVICE_NAME?.trim() || opts.serviceName,
    instrumentations,
    // Traces only: metrics go through prom-client's /metrics and logs through pino on stdout.
    metricReaders: [],
    logRecordProcessors: [],
    ...(opts.spanProcessors ? { spanProcessors: opts.spanProcessors } : {}),
  });
  sdk.start();

  let stopped: Promise<void> | null = null;
  const handle: TracingHandle = {
    enabled: true,
    shutdown: () => {
      stopped ??= (async () => {
        try {
          await sdk.shutdown();
        } finally {
          for (const instrumentation of instrumentations) instrumentation.disable();
          trace.disable();
          context.disable();
          propagation.disable();
          if (active === handle) active = null;
        }
      })();
      return stopped;
    },
  };
  active = handle;
  return handle;
}

const QUIET_PATHS: ReadonlySet<string> = new Set(PLATFORM_DEFAULTS.quietLogPaths);

function isQuietPath(url: string | undefined): boolean {
  if (!url) return false;
  const q = url.indexOf('?');
  return QUIET_PATHS.has(q < 0 ? url : url.slice(0, q));
}
