import { INestApplication, Module, Provider, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { __resetOutOfContextForTests } from 'nestjs-pino/PinoLogger';
import { EnvSchema } from '../config/env-schema';
import { PlatformModule } from '../platform.module';
import { PlatformServiceOptions } from '../platform-options';
import { MemoryLogStream } from './memory-log-stream';

export interface PlatformTestApp {
  app: INestApplication;
  /** `http://127.0.0.1:<port>` */
  url: string;
  logs: MemoryLogStream;
  close(): Promise<void>;
}

export interface PlatformTestAppOptions<S extends EnvSchema> {
  platform?: Partial<PlatformServiceOptions<S>>;
  /** Environment the platform reads (process.env is NOT used, so tests do not leak into each other). */
  env?: Record<string, string>;
  controllers?: Type<unknown>[];
  providers?: Provider[];
  imports?: Type<unknown>[];
}

/**
 * A real Nest application with PlatformModule on 127.0.0.1 and a free port, logging into memory. Call close()
 * in afterEach/afterAll.
 */
export async function createPlatformTestApp<S extends EnvSchema>(
  opts: PlatformTestAppOptions<S> = {},
): Promise<PlatformTestApp> {
  const logs = new MemoryLogStream();
  // nestjs-pino keeps ONE process-wide logger for logs outside a request, made by the first app; a service has
  // one app per process, but a test file makes several, and each must see its own logs.
  __resetOutOfContextForTests();
  const platform: PlatformServiceOptions<S> = {
    name: 'platform-test',
    ...opts.platform,
    env: { LOG_LEVEL: 'info', ...opts.env },
    logDestination: logs,
  };

  @Module({
    imports: [PlatformModule.forService(platform), ...(opts.imports ?? [])],
    controllers: opts.controllers ?? [],
    providers: opts.providers ?? [],
  })
  class TestAppModule {}

  const app = await NestFactory.create(TestAppModule, {
    bufferLogs: true,
    abortOnError: false,
    forceCloseConnections: true,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  let closed = false;
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    logs,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}
