import { join } from 'node:path';
import { ChildLink } from '../child-link';
import { markdownTable } from '../markdown-table';
import { round } from '../percentiles';
import type { BenchContext, BenchSection } from '../section';
import { LOOKUP_IMPLEMENTATIONS, LOOKUP_LABELS, type LookupImplementation } from './implementations';
import type { LookupRunArgs, LookupRunResult } from './lookup-process';

const FULL = { sizes: [200, 1_000], lookups: 200, lookupBudgetMs: 60_000, deadlineMs: 480_000 };
const QUICK = { sizes: [50], lookups: 30, lookupBudgetMs: 5_000, deadlineMs: 60_000 };
/**
 * A child that reports no progress (a joined batch, a finished lookup) for this long is stuck, not slow: Node 20's
 * crypto can deadlock the main thread when a key made by generateKeyPairSync is exported as JWK while a garbage
 * collection runs (see docs/performance.md). It is killed and its network built once more.
 */
const STALL_MS = 60_000;

/**
 * Lookups: a loopback network of N real UDP nodes per implementation, each in its own child process so no
 * implementation shares an event loop or a heap with another; random targets, one lookup at a time.
 */
export const lookupsSection: BenchSection = async (ctx) => {
  const plan = ctx.quick ? QUICK : FULL;
  const results: LookupRunResult[] = [];
  const failures: LookupFailure[] = [];
  let block = 0;
  for (const size of plan.sizes) {
    for (const implementation of LOOKUP_IMPLEMENTATIONS) {
      const outcome = await runNetwork({ ctx, plan, implementation, size, block });
      // Each network gets its own address blocks: no socket of an earlier one can answer for this one.
      block += BUILD_ATTEMPTS * Math.ceil(size / 250);
      if ('error' in outcome) failures.push(outcome);
      else results.push(outcome);
    }
  }
  return {
    name: 'lookups',
    table: lookupsTable(results),
    data: { sizes: plan.sizes, lookupsPerNetwork: plan.lookups, results, failures },
    notes: [
      ...lookupNotes(results),
      ...failures.map((f) => `${LOOKUP_LABELS[f.implementation]} at N = ${f.size}: no figures (${f.error}).`),
    ],
  };
};

interface LookupFailure {
  implementation: LookupImplementation;
  size: number;
  error: string;
}

/** A network that does not come up is built once more (fresh addresses); a second failure is reported. */
const BUILD_ATTEMPTS = 2;

async function runNetwork(input: {
  ctx: BenchContext;
  plan: typeof FULL;
  implementation: LookupImplementation;
  size: number;
  block: number;
}): Promise<LookupRunResult | LookupFailure> {
  const { ctx, plan, implementation, size } = input;
  let error = '';
  for (let attempt = 0; attempt < BUILD_ATTEMPTS; attempt++) {
    ctx.log(`lookups: ${implementation}, N = ${size}${attempt > 0 ? ' (second attempt)' : ''} ...`);
    const args: LookupRunArgs = {
      implementation,
      size,
      lookups: plan.lookups,
      block: input.block + attempt * Math.ceil(size / 250),
      lookupBudgetMs: plan.lookupBudgetMs,
    };
    const child = new ChildLink({
      script: join(__dirname, 'lookup-process.js'),
      args,
      deadlineMs: plan.deadlineMs,
      stallMs: STALL_MS,
      log: ctx.log,
      name: `lookups ${implementation} N=${size}`,
    });
    try {
      const { result } = (await child.next('result')) as unknown as { result: LookupRunResult };
      ctx.log(
        `lookups: ${implementation}, N = ${size}: built in ${round(result.buildMs / 1000, 1)} s, ` +
          `median ${result.medianMessages} messages, ${result.exactPercent}% exact`,
      );
      return result;
    } catch (err) {
      error = err instanceof Error ? err.message.split('\n')[0] : String(err);
      ctx.log(`lookups: ${implementation}, N = ${size} failed: ${error}`);
    } finally {
      await child.close();
    }
  }
  return { implementation, size, error };
}

function lookupsTable(results: readonly LookupRunResult[]): string {
  return markdownTable(
    [
      'implementation',
      'N',
      'k',
      'ID bits',
      'lookups',
      'median ms',
      'p95 ms',
      'median msgs',
      'p95 msgs',
      'exact top-k %',
    ],
    results.map((r) => [
      LOOKUP_LABELS[r.implementation],
      r.size,
      r.k,
      r.idBits,
      r.lookups,
      nanIfNull(r.medianMs),
      nanIfNull(r.p95Ms),
      nanIfNull(r.medianMessages),
      nanIfNull(r.p95Messages),
      nanIfNull(r.exactPercent),
    ]),
  );
}

/** JSON turns NaN into null; the table shows it as n/a again. */
function nanIfNull(value: number | null): number {
  return value ?? Number.NaN;
}

/** The targets, as ratios at the largest N: kadfleet's median messages against each peer's. */
function lookupNotes(results: readonly LookupRunResult[]): string[] {
  const largest = Math.max(...results.map((r) => r.size));
  const at = (implementation: string) =>
    results.find((r) => r.size === largest && r.implementation === implementation);
  const kadfleet = at('kadfleet');
  if (!kadfleet) return [];
  const notes = [
    `At N = ${largest} kadfleet needs a median ${kadfleet.medianMessages} messages per lookup and returns ` +
      `exactly the true ${kadfleet.k} closest in ${kadfleet.exactPercent}% of lookups (target: fewer messages ` +
      `than both peers, >= 99% exact).`,
  ];
  for (const peer of ['dht-rpc', 'bittorrent-dht']) {
    const other = at(peer);
    if (!other) continue;
    notes.push(
      `Messages per lookup, kadfleet / ${peer} at N = ${largest}: ${round(kadfleet.medianMessages / other.medianMessages, 2)} ` +
        `(${kadfleet.medianMessages} vs ${other.medianMessages}; ${peer} ${other.exactPercent}% exact with k = ${other.k}).`,
    );
  }
  return notes;
}
