/**
 * The library's window for metrics systems. It records; services adapt it to prom-client (or anything
 * else). Names follow Prometheus conventions (`kad_..._total`, `..._seconds`), labels stay low-cardinality.
 */
export type Labels = Readonly<Record<string, string>>;

export interface MetricsSink {
  /** Adds `value` (default 1) to a counter. */
  increment(name: string, labels?: Labels, value?: number): void;
  /** Records one observation of a histogram (durations in seconds, sizes in units). */
  observe(name: string, value: number, labels?: Labels): void;
}

export const noopMetrics: MetricsSink = {
  increment: () => undefined,
  observe: () => undefined,
};

/** Counts by reason, e.g. packet drops; bounded because the reasons are a closed set. */
export class ReasonCounter<R extends string> {
  private readonly counts = new Map<R, number>();

  add(reason: R, value = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + value);
  }

  get(reason: R): number {
    return this.counts.get(reason) ?? 0;
  }

  total(): number {
    let sum = 0;
    for (const v of this.counts.values()) sum += v;
    return sum;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
