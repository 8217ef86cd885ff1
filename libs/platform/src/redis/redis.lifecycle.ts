import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ReadinessRegistry } from '../health/readiness.registry';
import { PLATFORM_OPTIONS } from '../platform.tokens';
import type { PlatformServiceOptions } from '../platform-options';
import { RedisConnection } from './redis-connection';
import { REDIS_CONNECTION } from './redis.tokens';

/**
 * Connects Redis at start-up without failing the start when it is down, adds the `redis` readiness check, and
 * closes the connection last on shutdown (onApplicationShutdown runs after every service's onModuleDestroy and
 * beforeApplicationShutdown, so those may still write their final state to Redis).
 */
@Injectable()
export class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  constructor(
    @Inject(REDIS_CONNECTION) private readonly connection: RedisConnection | null,
    @Inject(PLATFORM_OPTIONS) private readonly options: PlatformServiceOptions,
    private readonly readiness: ReadinessRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    const connection = this.connection;
    if (!connection) {
      this.logger.log('REDIS_URL is not set: running without Redis');
      return;
    }
    if (this.options.redis?.requiredForReadiness !== false) {
      this.readiness.register('redis', async () => {
        // No offline queue: while disconnected this rejects at once instead of waiting for a reconnect.
        const reply = await connection.client.ping();
        if (reply !== 'PONG') throw new Error(`unexpected PING reply ${reply}`);
      });
    }
    await connection.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.connection?.close();
  }
}
