import { Controller, Get, HttpException, Param } from '@nestjs/common';
import { isPlatformError } from '../errors';
import { createPlatformTestApp, PlatformTestApp } from '../testing/platform-test-app';
import { httpGet } from '../testing/http-request';
import { parsePrometheusText } from '../testing/prometheus-text';
import { UNMATCHED_ROUTE } from './http-metrics.middleware';
import { MetricsService } from './metrics.service';

@Controller('peers')
class PeersController {
  constructor(private readonly metrics: MetricsService) {}

  @Get(':id')
  get(@Param('id') id: string) {
    this.metrics.counter({ name: 'peer_lookups_total', help: 'Peer lookups.' }).inc();
    if (id === 'broken') throw new HttpException('boom', 500);
    return { id };
  }
}

describe('GET /metrics', () => {
  let t: PlatformTestApp;

  beforeAll(async () => {
    t = await createPlatformTestApp({ controllers: [PeersController] });
  });
  afterAll(() => t.close());

  it('serves valid Prometheus text with process metrics and the HTTP duration histogram by route', async () => {
    expect((await httpGet(`${t.url}/peers/abc`)).status).toBe(200);
    expect((await httpGet(`${t.url}/peers/def`)).status).toBe(200);
    expect((await httpGet(`${t.url}/peers/broken`)).status).toBe(500);
    expect((await httpGet(`${t.url}/no/such/path`)).status).toBe(404);

    const reply = await httpGet(`${t.url}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parsePrometheusText(reply.body);

    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(families.has(name)).toBe(true);
    }
    expect(families.get('peer_lookups_total')?.samples[0].value).toBe(3);

    const histogram = families.get('http_request_duration_seconds');
    expect(histogram?.type).toBe('histogram');
    const counts = new Map(
      histogram?.samples
        .filter((s) => s.name === 'http_request_duration_seconds_count')
        .map((s) => [`${s.labels.method} ${s.labels.route} ${s.labels.status}`, s.value]),
    );
    // The route label is the pattern, not the URL: two peers, one series.
    expect(counts.get('GET /peers/:id 200')).toBe(2);
    expect(counts.get('GET /peers/:id 500')).toBe(1);
    expect(counts.get(`GET ${UNMATCHED_ROUTE} 404`)).toBe(1);
  });
});

describe('MetricsService', () => {
  it('returns the existing metric when asked twice for one name', () => {
    const metrics = new MetricsService({ collectDefaults: false });
    const a = metrics.counter({ name: 'x_total', help: 'x', labelNames: ['kind'] });
    const b = metrics.counter({ name: 'x_total', help: 'x', labelNames: ['kind'] });
    expect(b).toBe(a);
  });

  it('refuses the same name with another type or other labels', () => {
    const metrics = new MetricsService({ collectDefaults: false });
    metrics.counter({ name: 'y_total', help: 'y', labelNames: ['kind'] });
    const conflict = (fn: () => unknown) => {
      try {
        fn();
        return false;
      } catch (err) {
        return isPlatformError(err, 'METRIC_CONFLICT');
      }
    };
    expect(conflict(() => metrics.gauge({ name: 'y_total', help: 'y', labelNames: ['kind'] }))).toBe(true);
    expect(conflict(() => metrics.counter({ name: 'y_total', help: 'y', labelNames: ['other'] }))).toBe(true);
  });

  it('keeps apps apart: each has its own registry', async () => {
    const a = new MetricsService({ collectDefaults: false });
    const b = new MetricsService({ collectDefaults: false });
    a.counter({ name: 'only_in_a_total', help: 'a' }).inc();
    expect((await a.render()).body).toContain('only_in_a_total 1');
    expect((await b.render()).body).not.toContain('only_in_a_total');
  });
});
