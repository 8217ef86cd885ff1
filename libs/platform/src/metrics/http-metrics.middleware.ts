import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Histogram } from 'prom-client';
import { PLATFORM_DEFAULTS } from '../defaults';
import { MetricsService } from './metrics.service';
import { UNMATCHED_ROUTE, matchedRoute } from './route-label';

export { UNMATCHED_ROUTE };

/**
 * Records `http_request_duration_seconds{method,route,status}` for every finished request. The route label is
 * the matched route pattern (`/v1/peers/:id`), never the raw URL, so label cardinality stays bounded.
 * Requests the client aborts (an SSE stream closed by the browser) are not recorded: their "duration" is a
 * session length, not a latency.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  private readonly histogram: Histogram<'method' | 'route' | 'status'>;

  constructor(metrics: MetricsService) {
    this.histogram = metrics.histogram({
      name: 'http_request_duration_seconds',
      help: 'Duration of HTTP requests from arrival to the last byte of the response.',
      labelNames: ['method', 'route', 'status'],
      buckets: [...PLATFORM_DEFAULTS.httpDurationBuckets],
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = res.statusCode;
      this.histogram.observe(
        { method: req.method, route: matchedRoute(req, status) ?? UNMATCHED_ROUTE, status: String(status) },
        seconds,
      );
    });
    next();
  }
}
