import { INestApplication, Logger as NestLogger, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { isPlatformError } from './errors';
import { EnvSchema } from './config/env-schema';
import { loadConfig } from './config/load-config';
import { ReadinessRegistry } from './health/readiness.registry';
import { CommonConfig, PlatformServiceOptions, platformSchema } from './platform-options';
import { ProcessLike, installGracefulShutdown } from './shutdown/graceful-shutdown';
import type { TracingHandle } from './tracing/start-tracing';

export interface BootstrapOptions<S extends EnvSchema> extends PlatformServiceOptions<S> {
  /** The handle startTracing() returned in main.ts; flushed after the app has closed. */
  tracing?: TracingHandle;
  /** Test hook: the process whose signals are handled and whose exit is called. */
  proc?: ProcessLike;
}

/**
 * The whole of a service's main.ts after tracing:
 *
 *   const tracing = startTracing({ serviceName: 'crawler' });   // first, see tracing/start-tracing.ts
 *   void bootstrapService(CrawlerModule, { ...CRAWLER_SERVICE, tracing });
 *
 * Validates the environment first (a wrong value prints every bad variable and exits 1 before anything starts),
 * creates the app with buffered logs replayed through pino, installs graceful shutdown, listens on
 * HTTP_HOST:HTTP_PORT and logs the URLs. Any start-up failure is logged and exits 1.
 */
export async function bootstrapService<S extends EnvSchema>(
  appModule: Type<unknown>,
  opts: BootstrapOptions<S>,
): Promise<INestApplication | undefined> {
  const proc = opts.proc ?? process;
  let config: CommonConfig;
  try {
    // Validates the service's own variables too; only the common ones are read here.
    config = loadConfig(platformSchema(opts), opts.env) as unknown as CommonConfig;
  } catch (err) {
    if (!isPlatformError(err, 'CONFIG_INVALID')) throw err;
    process.stderr.write(`${opts.name}: ${err.message}\n`);
    proc.exit(1);
    return undefined;
  }
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(appModule, {
      bufferLogs: true,
      // Reject instead of process.abort() (a core dump) when a provider fails during start-up.
      abortOnError: false,
      // Open keep-alive and SSE connections would otherwise hold shutdown until the watchdog fires.
      forceCloseConnections: true,
    });
    const logger = app.get(Logger);
    app.useLogger(logger);
    app.flushLogs();
    const readiness = app.get(ReadinessRegistry);
    const nestApp = app;
    installGracefulShutdown({
      app: { close: () => nestApp.close() },
      timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      logger: new NestLogger('Shutdown'),
      onShutdownStart: () => readiness.markShuttingDown(),
      afterClose: () => opts.tracing?.shutdown() ?? Promise.resolve(),
      proc,
    });
    await app.listen(config.HTTP_PORT, config.HTTP_HOST);
    const base = `http://${urlHost(config.HTTP_HOST)}:${listeningPort(app) ?? config.HTTP_PORT}`;
    new NestLogger('Bootstrap').log(
      `${config.SERVICE_NAME} listening on ${base} (metrics ${base}/metrics, health ${base}/health/live ` +
        `and ${base}/health/ready; tracing ${opts.tracing?.enabled ? 'on' : 'off'})`,
    );
    return app;
  } catch (err) {
    new NestLogger('Bootstrap').error(
      `${opts.name} failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    await app?.close().catch(() => undefined);
    proc.exit(1);
    return undefined;
  }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function listeningPort(app: INestApplication): number | undefined {
  const address: unknown = app.getHttpServer().address();
  return typeof address === 'object' && address !== null ? (address as { port: number }).port : undefined;
}
