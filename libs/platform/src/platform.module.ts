import {
  DynamicModule,
  Global,
  Logger,
  MiddlewareConsumer,
  Module,
  NestModule,
  RequestMethod,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { EnvSchema } from './config/env-schema';
import { loadConfig } from './config/load-config';
import { EventLoopMonitor } from './health/event-loop.monitor';
import { HealthController } from './health/health.controller';
import { ReadinessRegistry } from './health/readiness.registry';
import { buildLoggerParams } from './logging/logger-params';
import { HttpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { CommonConfig, PlatformServiceOptions, platformSchema } from './platform-options';
import { PLATFORM_CONFIG, PLATFORM_OPTIONS } from './platform.tokens';
import { RedisConnection } from './redis/redis-connection';
import { RedisLifecycle } from './redis/redis.lifecycle';
import { REDIS_CLIENT, REDIS_CONNECTION } from './redis/redis.tokens';

/**
 * Everything a kadfleet service shares, as one global module:
 *
 *   @Module({ imports: [PlatformModule.forService(BOOTSTRAP_SERVICE)], ... })
 *
 * Provides PLATFORM_CONFIG (validated env), nestjs-pino logging, MetricsService + GET /metrics, the
 * http_request_duration_seconds histogram, REDIS_CLIENT (ioredis or null), ReadinessRegistry and
 * GET /health/live + /health/ready.
 */
@Global()
@Module({})
export class PlatformModule implements NestModule {
  static forService<S extends EnvSchema>(options: PlatformServiceOptions<S>): DynamicModule {
    const schema = platformSchema(options);
    const configProvider = { provide: PLATFORM_CONFIG, useFactory: () => loadConfig(schema, options.env) };
    return {
      module: PlatformModule,
      global: true,
      imports: [
        LoggerModule.forRootAsync({
          // The logger module is built before this one's providers are visible to it, so it gets its own
          // (identical, cheap) config provider.
          providers: [configProvider],
          inject: [PLATFORM_CONFIG],
          useFactory: (config: CommonConfig) =>
            buildLoggerParams({
              level: config.LOG_LEVEL,
              serviceName: config.SERVICE_NAME,
              destination: options.logDestination,
            }),
        }),
        // Terminus' own logger would log every failed probe; failures are visible in the probe response and
        // in the Redis connection's rate-limited log instead.
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [MetricsController, HealthController],
      providers: [
        { provide: PLATFORM_OPTIONS, useValue: options },
        configProvider,
        { provide: MetricsService, useFactory: () => new MetricsService(options.metrics) },
        {
          provide: REDIS_CONNECTION,
          inject: [PLATFORM_CONFIG, MetricsService],
          useFactory: (config: CommonConfig, metrics: MetricsService) =>
            config.REDIS_URL
              ? new RedisConnection({
                  url: config.REDIS_URL,
                  commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
                  connectionName: config.SERVICE_NAME,
                  logger: new Logger('Redis'),
                  metrics,
                })
              : null,
        },
        {
          provide: REDIS_CLIENT,
          inject: [REDIS_CONNECTION],
          useFactory: (c: RedisConnection | null) => c?.client ?? null,
        },
        RedisLifecycle,
        ReadinessRegistry,
        EventLoopMonitor,
        HttpMetricsMiddleware,
      ],
      exports: [
        PLATFORM_CONFIG,
        PLATFORM_OPTIONS,
        MetricsService,
        REDIS_CLIENT,
        REDIS_CONNECTION,
        ReadinessRegistry,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '*path', method: RequestMethod.ALL });
  }
}
