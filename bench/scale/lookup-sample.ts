import { performance } from 'node:perf_hooks';
import {
  DEFAULTS,
  compareDistance,
  idEquals,
  type KademliaDHT,
  type NodeId,
  type VirtualClock,
} from '../../libs/kademlia/src';
import { createRandom } from '../../libs/kademlia/src/sim/random';

/** A simulated network the sample can start lookups in. */
export interface SimulatedNodes {
  readonly size: number;
  /** Every node ID, in index order: the oracle's ground truth. */
  readonly ids: readonly NodeId[];
  /** The node at `index`, ready to look up. */
  node(index: number): Promise<KademliaDHT>;
}

export interface LookupSampleOptions {
  readonly nodes: SimulatedNodes;
  readonly clock: VirtualClock;
  readonly lookups: number;
  /** Lookups in flight at once, as in a network where many nodes look things up at the same time. */
  readonly concurrency: number;
  readonly seed: number;
  /** Called between the measured pass and the timing pass (the worker collects garbage there). */
  readonly beforeTimedPass?: () => void;
}

export interface LookupRecord {
  readonly messages: number;
  readonly hops: number;
  /** Returned exactly the true k closest (requester excluded), in order. */
  readonly exact: boolean;
  readonly finishReason: string;
}

export interface LookupSample {
  readonly records: LookupRecord[];
  /**
   * Real time of a second, timing-only pass over the same (node, target) pairs, when every node those lookups
   * reach already exists: the first pass also pays for building nodes and for the garbage that leaves.
   */
  readonly timedPassMs: number;
  /** Virtual time the first pass covered. */
  readonly virtualMs: number;
}

interface PlannedLookup {
  readonly from: number;
  readonly target: NodeId;
}

/**
 * Random-target lookups from random nodes, each result checked against a brute-force oracle: the true k
 * closest IDs of the whole network by XOR distance, found by scanning every ID.
 */
export async function runLookupSample(options: LookupSampleOptions): Promise<LookupSample> {
  const { nodes, clock } = options;
  const random = createRandom(options.seed);
  const plan: PlannedLookup[] = Array.from({ length: options.lookups }, () => ({
    from: Math.floor(random() * nodes.size),
    target: randomIdFrom(random),
  }));
  const virtualStart = clock.now();
  const records = await inWaves({ ...options, plan, run: (lookup) => lookupOnce({ nodes, ...lookup }) });
  const virtualMs = clock.now() - virtualStart;
  options.beforeTimedPass?.();
  const startedAt = performance.now();
  await inWaves({
    ...options,
    plan,
    run: async ({ from, target }) => (await nodes.node(from)).lookup(target),
  });
  return { records, timedPassMs: performance.now() - startedAt, virtualMs };
}

/** Runs the plan `concurrency` lookups at a time, in virtual time. */
async function inWaves<T>(input: {
  clock: VirtualClock;
  concurrency: number;
  plan: readonly PlannedLookup[];
  run: (lookup: PlannedLookup) => Promise<T>;
}): Promise<T[]> {
  const out: T[] = [];
  for (let at = 0; at < input.plan.length; at += input.concurrency) {
    const wave = input.plan.slice(at, at + input.concurrency);
    out.push(...(await input.clock.runUntilSettled(Promise.all(wave.map(input.run)))));
  }
  return out;
}

async function lookupOnce(input: {
  nodes: SimulatedNodes;
  from: number;
  target: NodeId;
}): Promise<LookupRecord> {
  const { nodes, from, target } = input;
  const node = await nodes.node(from);
  const outcome = await node.lookup(target);
  const truth = trueClosest({ ids: nodes.ids, target, k: DEFAULTS.k, exclude: from });
  const got = outcome.closest.map((c) => c.id);
  return {
    messages: outcome.requests,
    hops: outcome.maxHops,
    exact: got.length === truth.length && got.every((id, i) => idEquals(id, truth[i])),
    finishReason: outcome.finishReason,
  };
}

/** The k IDs nearest to target by XOR distance, nearest first, by scanning every ID (index `exclude` skipped). */
export function trueClosest(input: {
  ids: readonly NodeId[];
  target: NodeId;
  k: number;
  exclude?: number;
}): NodeId[] {
  const { ids, target, k, exclude } = input;
  const best: NodeId[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (i === exclude) continue;
    const id = ids[i];
    if (best.length === k && compareDistance(target, id, best[k - 1]) >= 0) continue;
    let at = best.length;
    while (at > 0 && compareDistance(target, id, best[at - 1]) < 0) at--;
    best.splice(at, 0, id);
    if (best.length > k) best.pop();
  }
  return best;
}

function randomIdFrom(random: () => number): NodeId {
  const id = new Uint8Array(DEFAULTS.idBits / 8);
  for (let i = 0; i < id.length; i++) id[i] = Math.floor(random() * 256);
  return id;
}
