import { Injectable, OnModuleInit } from '@nestjs/common';
import { isPlatformError } from '../errors';
import { createPlatformTestApp, PlatformTestApp } from '../testing/platform-test-app';
import { httpGet } from '../testing/http-request';
import { EventLoopMonitor } from './event-loop.monitor';
import { ReadinessRegistry } from './readiness.registry';

/** What a service does: register its own named checks at start-up. */
@Injectable()
class DhtReadiness implements OnModuleInit {
  static state: 'up' | 'down' | 'hang' = 'up';

  constructor(private readonly readiness: ReadinessRegistry) {}

  onModuleInit(): void {
    this.readiness.register(
      'dht',
      () => {
        if (DhtReadiness.state === 'down') throw new Error('routing table empty');
        if (DhtReadiness.state === 'hang') return new Promise(() => undefined);
        return { contacts: 42 };
      },
      { timeoutMs: 100 },
    );
  }
}

describe('GET /health/*', () => {
  let t: PlatformTestApp;

  beforeAll(async () => {
    t = await createPlatformTestApp({ providers: [DhtReadiness] });
  });
  afterAll(() => t.close());
  beforeEach(() => (DhtReadiness.state = 'up'));

  it('live reports the event loop as up with its recent maximum delay', async () => {
    const live = await httpGet(`${t.url}/health/live`);
    expect(live.status).toBe(200);
    expect(JSON.parse(live.body)).toMatchObject({
      status: 'ok',
      details: { event_loop: { status: 'up', maxDelayMs: expect.any(Number), thresholdMs: 5_000 } },
    });
  });

  it('live fails after the event loop was blocked longer than the threshold, and recovers', async () => {
    const monitor = t.app.get(EventLoopMonitor);
    monitor.check(); // start a fresh window
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // a stuck loop: nothing else runs meanwhile
    }
    expect(monitor.check(100)).toMatchObject({ event_loop: { status: 'down' } });
    expect(monitor.check(100)).toMatchObject({ event_loop: { status: 'up' } });
  });

  it('ready shows each registered check with its details', async () => {
    const ready = await httpGet(`${t.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body).details).toEqual({ dht: { status: 'up', contacts: 42 } });
  });

  it('ready is 503 naming the failing check and why', async () => {
    DhtReadiness.state = 'down';
    const ready = await httpGet(`${t.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'error',
      error: { dht: { status: 'down', message: 'routing table empty' } },
    });
  });

  it('a check that hangs counts as down after its timeout', async () => {
    DhtReadiness.state = 'hang';
    const ready = await httpGet(`${t.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body).error.dht).toEqual({ status: 'down', message: 'timed out after 100 ms' });
  });

  it('refuses a second check with the same name', () => {
    const registry = t.app.get(ReadinessRegistry);
    let code: unknown;
    try {
      registry.register('dht', () => undefined);
    } catch (err) {
      code = isPlatformError(err) ? err.code : err;
    }
    expect(code).toBe('READINESS_CHECK_DUPLICATE');
  });

  it('stops being ready once shutdown begins', async () => {
    t.app.get(ReadinessRegistry).markShuttingDown();
    const ready = await httpGet(`${t.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body).error.shutdown).toEqual({
      status: 'down',
      message: 'the service is shutting down',
    });
  });
});
