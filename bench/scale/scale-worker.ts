/**
 * Child process of the scale benchmark: builds one simulated network (ScaleRunArgs), runs its lookups, prints
 * one `result` line (ScaleRunResult) and exits. One process per run, so every run starts from an empty heap and
 * its memory figure is its own.
 */
import { MemoryNetwork, VirtualClock } from '../../libs/kademlia/src';
import { createRandom } from '../../libs/kademlia/src/sim/random';
import { childArgs, emit, failChild } from '../child-main';
import { median, percentile } from '../percentiles';
import { ConvergedNetwork, type TableModel } from './converged-network';
import { joinNetwork } from './joined-network';
import { runLookupSample, type SimulatedNodes } from './lookup-sample';

export type ScaleMethod = 'joined' | `converged-${TableModel}`;

export interface ScaleRunArgs {
  readonly method: ScaleMethod;
  readonly size: number;
  readonly lookups: number;
  readonly concurrency: number;
  readonly seed: number;
}

export interface ScaleRunResult {
  readonly method: ScaleMethod;
  readonly size: number;
  readonly log2N: number;
  readonly lookups: number;
  readonly messages: { readonly median: number; readonly p95: number };
  readonly hops: { readonly median: number; readonly p95: number };
  /** Share of lookups that returned exactly the true 20 closest (brute-force oracle), 0..1. */
  readonly exactShare: number;
  readonly finishReasons: Record<string, number>;
  /** Simulated lookups per second of real time (timing pass over nodes already built). */
  readonly lookupsPerSecond: number;
  readonly virtualSeconds: number;
  /** Nodes that exist as objects: all of them when joined, only those lookups reached when converged. */
  readonly nodesBuilt: number;
  readonly averageTableSize: number;
  /** Real time spent growing the network: joins, or filling the tables of the nodes built. */
  readonly buildSeconds: number;
  readonly notAdmitted: number;
  readonly droppedWhileBuilding: number;
  /** Highest V8 heap use and resident set seen (sampled every 200 ms of real time, and at the end). */
  readonly peakHeapMiB: number;
  readonly peakRssMiB: number;
  readonly wallSeconds: number;
}

/** One-way delay between two simulated hosts: 5-50 ms, as in test/sim. */
function latencyModel(random: () => number): () => number {
  return () => 5 + random() * 45;
}

async function main(): Promise<void> {
  const args = childArgs<ScaleRunArgs>();
  if (!Number.isInteger(args.size) || args.size < 100 || args.size > 1_000_000) throw new Error('bad size');
  const startedAt = performance.now();
  const clock = new VirtualClock();
  const random = createRandom(args.seed);
  const network = new MemoryNetwork({ clock, random, latencyMs: latencyModel(random) });
  const progress = (line: string) => emit({ type: 'progress', line });
  const peak = { heap: 0, rss: 0 };
  const samplePeak = () => {
    const { heapUsed, rss } = process.memoryUsage();
    peak.heap = Math.max(peak.heap, heapUsed);
    peak.rss = Math.max(peak.rss, rss);
  };
  const sampler = setInterval(samplePeak, 200);

  let nodes: SimulatedNodes;
  let describeBuild: () => Pick<
    ScaleRunResult,
    'nodesBuilt' | 'averageTableSize' | 'buildSeconds' | 'notAdmitted' | 'droppedWhileBuilding'
  >;
  let stop: () => Promise<void>;
  if (args.method === 'joined') {
    const joined = await joinNetwork({ size: args.size, seed: args.seed + 1, clock, network });
    progress(`${args.size} nodes joined in ${(joined.joinMs / 1000).toFixed(1)} s`);
    nodes = joined;
    describeBuild = () => ({
      nodesBuilt: joined.size,
      averageTableSize: joined.averageTableSize(),
      buildSeconds: joined.joinMs / 1000,
      notAdmitted: 0,
      droppedWhileBuilding: 0,
    });
    stop = () => joined.stop();
  } else {
    const tableModel: TableModel = args.method === 'converged-full' ? 'full' : 'paper';
    const converged = new ConvergedNetwork({
      size: args.size,
      tableModel,
      seed: args.seed + 1,
      clock,
      network,
    });
    nodes = converged;
    describeBuild = () => {
      const s = converged.stats();
      return {
        nodesBuilt: s.nodesBuilt,
        averageTableSize: s.tableEntries / Math.max(1, s.nodesBuilt),
        buildSeconds: s.buildMs / 1000,
        notAdmitted: s.notAdmitted,
        droppedWhileBuilding: s.droppedWhileBuilding,
      };
    };
    stop = () => converged.stop();
  }

  const sample = await runLookupSample({
    nodes,
    clock,
    lookups: args.lookups,
    concurrency: args.concurrency,
    seed: args.seed + 2,
    // The timing pass starts from a collected heap, not from the garbage of building thousands of tables.
    beforeTimedPass: () => (globalThis as { gc?: () => void }).gc?.(),
  });
  const messages = sample.records.map((r) => r.messages);
  const hops = sample.records.map((r) => r.hops);
  const finishReasons: Record<string, number> = {};
  for (const r of sample.records) finishReasons[r.finishReason] = (finishReasons[r.finishReason] ?? 0) + 1;
  samplePeak();
  clearInterval(sampler);
  const result: ScaleRunResult = {
    method: args.method,
    size: args.size,
    log2N: Math.log2(args.size),
    lookups: sample.records.length,
    messages: { median: median(messages), p95: percentile(messages, 95) },
    hops: { median: median(hops), p95: percentile(hops, 95) },
    exactShare: sample.records.filter((r) => r.exact).length / sample.records.length,
    finishReasons,
    lookupsPerSecond: sample.records.length / (sample.timedPassMs / 1000),
    virtualSeconds: sample.virtualMs / 1000,
    ...describeBuild(),
    peakHeapMiB: peak.heap / 2 ** 20,
    peakRssMiB: peak.rss / 2 ** 20,
    wallSeconds: (performance.now() - startedAt) / 1000,
  };
  await stop();
  emit({ type: 'result', ...result });
}

main().then(() => process.exit(0), failChild);
