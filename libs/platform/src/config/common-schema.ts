import { PLATFORM_DEFAULTS } from '../defaults';
import { env } from './env-schema';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Variables every service reads. A service spreads this into its own schema:
 * `{ ...commonEnvSchema({ serviceName: 'crawler', httpPort: 8082 }), CRAWL_INTERVAL_MS: env.durationMs(...) }`.
 */
export function commonEnvSchema(opts: { serviceName: string; httpPort?: number }) {
  return {
    SERVICE_NAME: env.string({
      description: 'Name in logs, metrics and traces (several releases of one service can be told apart).',
      default: opts.serviceName,
      pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
      allowedText: 'letters, digits, ".", "_", "-"; at most 63 characters',
    }),
    LOG_LEVEL: env.enum({
      description: 'Lowest level written to the JSON log on stdout.',
      values: LOG_LEVELS,
      default: PLATFORM_DEFAULTS.logLevel as LogLevel,
    }),
    HTTP_HOST: env.string({
      description: 'Address the HTTP server (API, /metrics, /health/*) listens on.',
      default: PLATFORM_DEFAULTS.httpHost,
      maxLength: 255,
    }),
    HTTP_PORT: env.port({
      description: 'Port of the HTTP server.',
      default: opts.httpPort ?? PLATFORM_DEFAULTS.httpPort,
    }),
    REDIS_URL: env.url({
      description: 'Redis to use; unset runs the service without Redis (features needing it are disabled).',
      protocols: ['redis:', 'rediss:'],
    }),
    REDIS_COMMAND_TIMEOUT_MS: env.durationMs({
      description: 'A Redis command fails after this long instead of waiting.',
      default: PLATFORM_DEFAULTS.redisCommandTimeoutMs,
      min: 10,
      max: 60_000,
    }),
    SHUTDOWN_TIMEOUT_MS: env.durationMs({
      description: 'On SIGTERM/SIGINT, exit is forced if graceful shutdown takes longer than this.',
      default: PLATFORM_DEFAULTS.shutdownTimeoutMs,
      min: 100,
      max: 600_000,
    }),
  };
}

export type CommonEnvSchema = ReturnType<typeof commonEnvSchema>;
