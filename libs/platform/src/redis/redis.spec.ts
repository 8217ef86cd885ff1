import type Redis from 'ioredis';
import { createPlatformTestApp, PlatformTestApp } from '../testing/platform-test-app';
import { httpGet } from '../testing/http-request';
import { parsePrometheusText } from '../testing/prometheus-text';
import { RedisServer } from '../testing/redis-server';
import { redisRetryDelay } from './redis-connection';
import { REDIS_CLIENT } from './redis.tokens';

/** Polls `probe` until it returns true; fails the test with `what` after `timeoutMs`. No timing is asserted. */
async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

async function metricValue(url: string, name: string): Promise<number | undefined> {
  const families = parsePrometheusText((await httpGet(`${url}/metrics`)).body);
  return families.get(name)?.samples[0]?.value;
}

describe('Redis connection and readiness', () => {
  let redis: RedisServer;
  let t: PlatformTestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await createPlatformTestApp({ env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.close();
  });

  it('is ready with Redis up, 503 with details while Redis is down, ready again after a restart', async () => {
    const client = t.app.get<Redis>(REDIS_CLIENT);
    await client.set('kadfleet:test', 'before');

    const ready = await httpGet(`${t.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'ok', details: { redis: { status: 'up' } } });
    expect(await metricValue(t.url, 'redis_up')).toBe(1);

    await redis.stop();
    const down = await httpGet(`${t.url}/health/ready`);
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toMatchObject({ status: 'error', error: { redis: { status: 'down' } } });
    // Commands fail fast instead of queueing while Redis is away.
    await expect(client.get('kadfleet:test')).rejects.toThrow();
    // Liveness does not depend on Redis: an outage must not restart pods.
    expect((await httpGet(`${t.url}/health/live`)).status).toBe(200);
    // Reconnect attempts against the dead server are counted as errors.
    await eventually(
      'a failed reconnect is counted',
      async () => (await metricValue(t.url, 'redis_errors_total'))! > 0,
    );

    await redis.restart();
    await eventually(
      'ready after Redis restart',
      async () => (await httpGet(`${t.url}/health/ready`)).status === 200,
    );
    // The same client object works again (the restarted Redis is empty: nothing was persisted).
    expect(await client.get('kadfleet:test')).toBeNull();
    await client.set('kadfleet:test', 'after');
    expect(await client.get('kadfleet:test')).toBe('after');
    expect(await metricValue(t.url, 'redis_up')).toBe(1);
  });

  it('logs a reconnection, and Redis errors at most once per interval', () => {
    const messages = t.logs.lines.map((l) => String(l.msg));
    expect(messages.filter((m) => m.startsWith('Reconnected to Redis'))).toHaveLength(1);
    expect(messages.filter((m) => m.startsWith('Redis error')).length).toBe(1);
  });
});

describe('Redis configuration', () => {
  it('runs without Redis when REDIS_URL is unset: null client, ready, no redis check', async () => {
    const t = await createPlatformTestApp({});
    try {
      expect(t.app.get(REDIS_CLIENT)).toBeNull();
      const ready = await httpGet(`${t.url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(JSON.parse(ready.body).details).toEqual({});
      expect(t.logs.find((l) => l.msg === 'REDIS_URL is not set: running without Redis')).toBeDefined();
    } finally {
      await t.close();
    }
  });

  it('starts while Redis is down, stays ready when Redis is not required, and connects once Redis appears', async () => {
    const redis = await RedisServer.start();
    await redis.stop();
    const t = await createPlatformTestApp({
      env: { REDIS_URL: redis.url },
      platform: { redis: { requiredForReadiness: false } },
    });
    try {
      expect((await httpGet(`${t.url}/health/ready`)).status).toBe(200);
      expect(await metricValue(t.url, 'redis_up')).toBe(0);
      await redis.restart();
      const client = t.app.get<Redis>(REDIS_CLIENT);
      await eventually('client connects to the late Redis', async () => (await client.ping()) === 'PONG');
      expect(t.logs.find((l) => String(l.msg).startsWith('Connected to Redis'))).toBeDefined();
    } finally {
      await t.close();
      await redis.close();
    }
  });
});

describe('redisRetryDelay', () => {
  it('backs off exponentially, is capped, and never gives up', () => {
    const opts = { baseMs: 100, maxMs: 2_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => redisRetryDelay(n, opts))).toEqual([100, 200, 400, 800, 1600, 2000]);
    expect(redisRetryDelay(1_000_000, opts)).toBe(2_000);
  });
});
