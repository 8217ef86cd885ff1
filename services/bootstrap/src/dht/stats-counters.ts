import type { Counter } from 'prom-client';

/**
 * Mirrors monotonically growing library counters (read from `dht.stats()` at scrape time) into prom-client
 * Counters. The library keeps plain numbers so it stays free of prom-client; a Counter can only be increased,
 * so each scrape adds what grew since the last one. A counter that went backwards (the node was restarted
 * inside the same process) starts over from its new value, as Prometheus' rate() expects of a reset.
 */
export class StatsCounterSync {
  private readonly last = new WeakMap<Counter<string>, Map<string, number>>();

  sync<L extends string>(counter: Counter<L>, labels: Partial<Record<L, string>>, current: number): void {
    if (!Number.isFinite(current) || current < 0) return;
    let seen = this.last.get(counter);
    if (!seen) this.last.set(counter, (seen = new Map()));
    const key = JSON.stringify(labels);
    const previous = seen.get(key) ?? 0;
    const delta = current >= previous ? current - previous : current;
    seen.set(key, current);
    if (delta > 0) counter.inc(labels, delta);
  }

  /** Every entry of a by-reason record, e.g. `{ find_node: 12, ping: 3 }` under label `labelName`. */
  syncRecord<L extends string>(
    counter: Counter<L>,
    labelName: L,
    record: Record<string, number> | undefined,
    fixed: Partial<Record<L, string>> = {},
  ): void {
    if (!record) return;
    for (const [value, count] of Object.entries(record)) {
      this.sync(counter, { ...fixed, [labelName]: value } as Partial<Record<L, string>>, count);
    }
  }
}
