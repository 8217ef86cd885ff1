/** Test helpers for platform and service specs. Not part of the production API (import from here in tests). */
export { reapOnExit } from './child-reaper';
export { findFreePort } from './free-port';
export { httpGet, type HttpReply } from './http-request';
export { MemoryLogStream } from './memory-log-stream';
export {
  createPlatformTestApp,
  type PlatformTestApp,
  type PlatformTestAppOptions,
} from './platform-test-app';
export { parsePrometheusText, type MetricFamily, type Sample } from './prometheus-text';
export { RedisServer, startRedisServer, type RedisServerOptions } from './redis-server';
