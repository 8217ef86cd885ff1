import {
  Counter,
  CounterConfiguration,
  Gauge,
  GaugeConfiguration,
  Histogram,
  HistogramConfiguration,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';
import { PlatformError } from '../errors';

export interface MetricsServiceOptions {
  /** Collect prom-client's standard process and Node.js metrics (CPU, memory, event loop, GC). */
  collectDefaults?: boolean;
  /** Labels added to every series of this registry. */
  defaultLabels?: Record<string, string>;
}

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;
type MetricClass<M> = new (config: never) => M;

/**
 * One prom-client Registry per application (never the global one, so tests can run several apps in one
 * process). The `counter`/`gauge`/`histogram` helpers are idempotent: asking twice for the same name returns the
 * same metric instead of crashing on duplicate registration; asking for a different type or labels is a
 * METRIC_CONFLICT error, which is a programming mistake worth failing on.
 */
export class MetricsService {
  readonly registry = new Registry();

  constructor(opts: MetricsServiceOptions = {}) {
    if (opts.defaultLabels) this.registry.setDefaultLabels(opts.defaultLabels);
    if (opts.collectDefaults !== false) collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string = string>(config: Omit<CounterConfiguration<L>, 'registers'>): Counter<L> {
    return this.getOrCreate(Counter as MetricClass<Counter<L>>, config);
  }

  gauge<L extends string = string>(config: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L> {
    return this.getOrCreate(Gauge as MetricClass<Gauge<L>>, config);
  }

  histogram<L extends string = string>(config: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L> {
    return this.getOrCreate(Histogram as MetricClass<Histogram<L>>, config);
  }

  /** The exposition text and its content type, for `/metrics`. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private getOrCreate<M extends AnyMetric>(
    cls: MetricClass<M>,
    config: { name: string; labelNames?: readonly string[] },
  ): M {
    const existing = this.registry.getSingleMetric(config.name) as AnyMetric | undefined;
    if (existing) {
      const existingLabels = [
        ...(((existing as unknown as { labelNames?: string[] }).labelNames ?? []) as string[]),
      ];
      const wanted = [...(config.labelNames ?? [])];
      if (!(existing instanceof cls) || existingLabels.sort().join() !== wanted.sort().join()) {
        throw new PlatformError(
          `metric ${config.name} already registered with another type or labels`,
          'METRIC_CONFLICT',
          {
            name: config.name,
          },
        );
      }
      return existing;
    }
    return new cls({ ...config, registers: [this.registry] } as never);
  }
}
