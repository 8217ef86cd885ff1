/**
 * libs/platform: what every kadfleet service shares. Services import this by relative path
 * (`../../../libs/platform/src`). main.ts must import `tracing/start-tracing` directly and call it first;
 * see README.md.
 */
export { PLATFORM_DEFAULTS } from './defaults';
export { PlatformError, isPlatformError, type PlatformErrorCode } from './errors';

export {
  env,
  type ConfigOf,
  type EnvSchema,
  type EnvVarSpec,
  type EnvVarType,
  type HostPort,
} from './config/env-schema';
export { loadConfig, type EnvSource } from './config/load-config';
export { ConfigError, type ConfigProblem } from './config/config-error';
export { describeSchema, embeddedEnvTable } from './config/describe-schema';
export { commonEnvSchema, LOG_LEVELS, type CommonEnvSchema, type LogLevel } from './config/common-schema';

export { PlatformModule } from './platform.module';
export {
  platformSchema,
  type CommonConfig,
  type PlatformConfig,
  type PlatformSchema,
  type PlatformServiceOptions,
} from './platform-options';
export { InjectConfig, PLATFORM_CONFIG, PLATFORM_OPTIONS } from './platform.tokens';
export { bootstrapService, type BootstrapOptions } from './main-helpers';
export {
  installGracefulShutdown,
  type GracefulShutdownOptions,
  type ProcessLike,
} from './shutdown/graceful-shutdown';

export { buildLoggerParams, REDACTED_PATHS, type LoggerParamsOptions } from './logging/logger-params';
export type { LoggerLike } from './logging/logger-like';

export { MetricsService, type MetricsServiceOptions } from './metrics/metrics.service';
export { MetricsController } from './metrics/metrics.controller';
export { HttpMetricsMiddleware, UNMATCHED_ROUTE } from './metrics/http-metrics.middleware';

export { startTracing, type TracingHandle, type TracingOptions } from './tracing/start-tracing';
export { tracingEnabledByEnv, OTEL_ENABLING_VARIABLES } from './tracing/tracing-enabled';
export { withSpan, activeTraceIds, TRACER_NAME } from './tracing/with-span';

export { RedisConnection, redisRetryDelay, type RedisConnectionOptions } from './redis/redis-connection';
export { REDIS_CLIENT, REDIS_CONNECTION } from './redis/redis.tokens';

export {
  ReadinessRegistry,
  type ReadinessCheck,
  type ReadinessCheckOptions,
} from './health/readiness.registry';
export { EventLoopMonitor } from './health/event-loop.monitor';
export { HealthController } from './health/health.controller';
