import Redis from 'ioredis';
import { PLATFORM_DEFAULTS } from '../defaults';
import { maskUrlPassword } from '../config/env-parsers';
import { LoggerLike } from '../logging/logger-like';
import { MetricsService } from '../metrics/metrics.service';
import { ErrorLogLimiter } from './error-log-limiter';

export interface RedisConnectionOptions {
  url: string;
  logger: LoggerLike;
  metrics: MetricsService;
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  errorLogIntervalMs?: number;
  /** Shown in `CLIENT LIST` on the server, to tell services apart. */
  connectionName?: string;
}

/**
 * The reconnect delay for attempt `times` (1-based): exponential from `baseMs`, capped at `maxMs`. It never
 * returns null, so ioredis never gives up: a Redis that comes back after an hour is found again.
 */
export function redisRetryDelay(times: number, opts: { baseMs: number; maxMs: number }): number {
  const exponent = Math.min(Math.max(times - 1, 0), 20);
  return Math.min(opts.baseMs * 2 ** exponent, opts.maxMs);
}

/**
 * One ioredis client that survives Redis restarts. Commands fail fast while Redis is down (no offline queue, one
 * retry, a command timeout) instead of piling up in memory; reconnecting never stops; errors are counted in
 * `redis_errors_total` and logged at most once per interval; `redis_up` is 1 while the connection is ready.
 */
export class RedisConnection {
  readonly client: Redis;
  private readonly limiter: ErrorLogLimiter;
  private wasReady = false;
  private closing = false;

  constructor(private readonly opts: RedisConnectionOptions) {
    const retry = {
      baseMs: opts.retryBaseMs ?? PLATFORM_DEFAULTS.redisRetryBaseMs,
      maxMs: opts.retryMaxMs ?? PLATFORM_DEFAULTS.redisRetryMaxMs,
    };
    this.client = new Redis(opts.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: PLATFORM_DEFAULTS.redisMaxRetriesPerRequest,
      commandTimeout: opts.commandTimeoutMs ?? PLATFORM_DEFAULTS.redisCommandTimeoutMs,
      connectTimeout: opts.connectTimeoutMs ?? PLATFORM_DEFAULTS.redisConnectTimeoutMs,
      retryStrategy: (times) => redisRetryDelay(times, retry),
      connectionName: opts.connectionName,
    });
    this.limiter = new ErrorLogLimiter({
      intervalMs: opts.errorLogIntervalMs ?? PLATFORM_DEFAULTS.redisErrorLogIntervalMs,
    });
    const errors = opts.metrics.counter({
      name: 'redis_errors_total',
      help: 'Errors reported by the Redis connection (failed connects, resets, protocol errors).',
    });
    const up = opts.metrics.gauge({
      name: 'redis_up',
      help: '1 while the Redis connection is ready, else 0.',
    });
    up.set(0);
    this.client.on('error', (err: Error) => {
      errors.inc();
      const suppressed = this.limiter.admit();
      if (suppressed === null) return;
      const more = suppressed > 0 ? ` (${suppressed} similar errors since the last report)` : '';
      opts.logger.warn(`Redis error at ${this.safeUrl}: ${err.message}${more}`);
    });
    this.client.on('ready', () => {
      up.set(1);
      this.limiter.reset();
      opts.logger.log(`${this.wasReady ? 'Reconnected' : 'Connected'} to Redis at ${this.safeUrl}`);
      this.wasReady = true;
    });
    this.client.on('close', () => {
      up.set(0);
    });
  }

  get isReady(): boolean {
    return this.client.status === 'ready';
  }

  /** The URL without its password, for logs. */
  get safeUrl(): string {
    return maskUrlPassword(this.opts.url);
  }

  /**
   * Starts connecting and waits at most `waitMs` for the first connection. Never rejects: a Redis that is down
   * at start-up must not stop the service; the client keeps reconnecting in the background.
   */
  async connect(waitMs: number = PLATFORM_DEFAULTS.redisInitialConnectWaitMs): Promise<boolean> {
    const connecting = this.client.connect().then(
      () => true,
      () => false,
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), waitMs);
    });
    const ok = await Promise.race([connecting, timeout]);
    clearTimeout(timer);
    if (!ok)
      this.opts.logger.warn(`Redis at ${this.safeUrl} is not reachable yet; reconnecting in the background`);
    return ok;
  }

  /** QUIT politely, then drop the socket if Redis does not answer within `timeoutMs`. Idempotent. */
  async close(timeoutMs: number = PLATFORM_DEFAULTS.redisQuitTimeoutMs): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.client.status !== 'ready') {
      this.client.disconnect();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.client.quit().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.client.disconnect();
  }
}
