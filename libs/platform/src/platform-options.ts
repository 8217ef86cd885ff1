import type { DestinationStream } from 'pino';
import { CommonEnvSchema, commonEnvSchema } from './config/common-schema';
import { ConfigOf, EnvSchema } from './config/env-schema';
import { EnvSource } from './config/load-config';
import { MetricsServiceOptions } from './metrics/metrics.service';

/**
 * What a service tells the platform about itself. Pass the SAME object to `PlatformModule.forService()` and to
 * `bootstrapService()`; define it once next to the service's AppModule.
 */
export interface PlatformServiceOptions<S extends EnvSchema = EnvSchema> {
  /** Default SERVICE_NAME: in logs, metrics and traces. */
  name: string;
  /** The service's own variables; the common ones (LOG_LEVEL, HTTP_PORT, REDIS_URL, …) are added. */
  configSchema?: S;
  /** Default HTTP_PORT of this service, so all services can run side by side on one machine. */
  httpPort?: number;
  /** Environment to read; process.env by default (tests pass their own). */
  env?: EnvSource;
  /** Redis behaviour when REDIS_URL is set. */
  redis?: {
    /**
     * Whether Redis being down makes `/health/ready` fail. Default true. A service that still does its main job
     * without Redis (the bootstrap node keeps serving the DHT) sets false so DNS and load balancers keep it.
     */
    requiredForReadiness?: boolean;
  };
  metrics?: MetricsServiceOptions;
  /** Test hook: write JSON logs here instead of stdout. */
  logDestination?: DestinationStream;
}

/** The full schema of a service: common variables first, the service's own may override them. */
export type PlatformSchema<S extends EnvSchema> = Omit<CommonEnvSchema, keyof S> & S;

/** The common part every service's config has (what the platform itself reads). */
export type CommonConfig = ConfigOf<CommonEnvSchema>;

/** The config type a service's code sees. */
export type PlatformConfig<S extends EnvSchema = EnvSchema> = ConfigOf<PlatformSchema<S>>;

export function platformSchema<S extends EnvSchema>(opts: PlatformServiceOptions<S>): PlatformSchema<S> {
  return {
    ...commonEnvSchema({ serviceName: opts.name, httpPort: opts.httpPort }),
    ...(opts.configSchema ?? ({} as S)),
  } as PlatformSchema<S>;
}
