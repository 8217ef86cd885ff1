import { bitAt, compareDistance, sharedPrefixLength, type NodeId } from '../id/node-id';
import type { Bucket } from './bucket';
import type { RoutingEntry } from './routing-entry';

export interface ClosestQuery {
  /** Leaves of a complete prefix trie, sorted by prefix (as RoutingTable keeps them). */
  buckets: readonly Bucket[];
  target: NodeId;
  n: number;
  filter?: (entry: RoutingEntry) => boolean;
}

/**
 * The n live entries nearest to target, nearest first, without sorting the table.
 *
 * Two disjoint prefix ranges first differ at a bit both of them fix, and whichever matches the target
 * there is closer to it, whole range against whole range. So walking the trie depth-first, target's
 * side first, yields the buckets in distance order; only the entries inside a bucket still need a
 * sort (at most k), and the walk stops as soon as it holds n.
 *
 * The trie is implicit in the sorted list: the leaves under one internal node are a contiguous run,
 * its first leaf lies in the node's 0-half and its last in the 1-half (a complete trie has both), so
 * the node splits at the first bit where those two prefixes differ.
 */
export function closestInBuckets(query: ClosestQuery): RoutingEntry[] {
  const { buckets, target, filter } = query;
  const n = Math.max(0, Math.floor(query.n));
  const result: RoutingEntry[] = [];
  if (n === 0 || buckets.length === 0 || Number.isNaN(n)) return result;
  const byDistance = (a: RoutingEntry, b: RoutingEntry) => compareDistance(target, a.id, b.id);

  // Runs [lo, hi) of the list still to visit; the top of the stack is the nearest one.
  const stack: number[] = [0, buckets.length];
  while (stack.length > 0 && result.length < n) {
    const hi = stack.pop()!;
    const lo = stack.pop()!;
    if (hi - lo === 1) {
      const entries = filter ? buckets[lo].live.filter(filter) : buckets[lo].live.slice();
      entries.sort(byDistance);
      for (let i = 0; i < entries.length && result.length < n; i++) result.push(entries[i]);
      continue;
    }
    const splitBit = sharedPrefixLength(buckets[lo].prefix, buckets[hi - 1].prefix);
    const mid = firstWithBitSet({ buckets, lo, hi, bit: splitBit });
    // Push the far half first so the near half is visited (completely) before it.
    if (bitAt(target, splitBit) === 0) stack.push(mid, hi, lo, mid);
    else stack.push(lo, mid, mid, hi);
  }
  return result;
}

/** Binary search in [lo, hi) for the first bucket whose prefix has `bit` set (the list is sorted). */
function firstWithBitSet(run: { buckets: readonly Bucket[]; lo: number; hi: number; bit: number }): number {
  let { lo, hi } = run;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bitAt(run.buckets[mid].prefix, run.bit) === 1) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
