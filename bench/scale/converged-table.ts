import { DEFAULTS, type NodeId } from '../../libs/kademlia/src';

/**
 * What a kadfleet routing table holds once the network has converged: every bucket of the table's own
 * structure full (k contacts drawn at random from the IDs its range covers), computed from the sorted set of all
 * IDs instead of from joins and traffic. This lets the scale benchmark build 100,000-node networks whose tables
 * are what a long-running network would have, without simulating the hours of traffic that fill them.
 *
 * The structure is the table's: the bucket holding our own ID always splits, and (relaxed splitting, paper §4.2)
 * a bucket that does not hold it splits while its depth is not a multiple of `splitRelaxation`. So the range of
 * IDs sharing exactly p bits with ours is cut into 2^(D - p - 1) buckets of depth D = the next multiple of
 * `splitRelaxation` at or above p + 1, each holding up to k contacts. Every bucket gets at most k contacts, so
 * all of them fit in the table with no replacement cache.
 */
export interface ConvergedTableInput {
  /** Every node ID of the network, sorted lexicographically (Buffer.compare order). */
  readonly sortedIds: readonly NodeId[];
  /** The table owner's ID (it is one of sortedIds). */
  readonly localId: NodeId;
  readonly k: number;
  readonly splitRelaxation: number;
  /** Seeded source for the choice of k among more; the same seed gives the same table. */
  readonly random: () => number;
}

const ID_BITS = DEFAULTS.idBits;

/** Indices into sortedIds of the contacts the converged table of `localId` holds (never localId itself). */
export function convergedTableIndices(input: ConvergedTableInput): number[] {
  const { sortedIds, localId, k, splitRelaxation } = input;
  const out: number[] = [];
  for (let p = 0; p < ID_BITS; p++) {
    // The IDs sharing exactly p leading bits with ours: our first p bits, then bit p flipped.
    const siblingDepth = p + 1;
    const sibling = withBit(localId, p, bitOf(localId, p) ^ 1);
    const [from, to] = prefixRange(sortedIds, sibling, siblingDepth);
    if (to - from <= k) {
      for (let i = from; i < to; i++) out.push(i);
    } else {
      const bucketDepth = Math.min(ID_BITS, Math.ceil(siblingDepth / splitRelaxation) * splitRelaxation);
      const extraBits = bucketDepth - siblingDepth;
      for (let part = 0; part < 2 ** extraBits; part++) {
        let prefix = sibling;
        for (let b = 0; b < extraBits; b++) {
          prefix = withBit(prefix, siblingDepth + b, (part >> (extraBits - 1 - b)) & 1);
        }
        const [partFrom, partTo] = prefixRange(sortedIds, prefix, bucketDepth);
        sample({ from: partFrom, to: partTo, k, random: input.random, out });
      }
    }
    // Deeper ranges are empty once nobody else shares our first p + 1 bits.
    const [ownFrom, ownTo] = prefixRange(sortedIds, localId, p + 1);
    if (ownTo - ownFrom <= 1) break;
  }
  return out;
}

/** The half-open index range of sortedIds whose IDs start with the first `bits` bits of `prefix`. */
export function prefixRange(sortedIds: readonly NodeId[], prefix: NodeId, bits: number): [number, number] {
  const low = fillAfter(prefix, bits, 0);
  const high = fillAfter(prefix, bits, 0xff);
  return [firstAtOrAbove(sortedIds, low, false), firstAtOrAbove(sortedIds, high, true)];
}

/** First index whose ID is >= bound (or > bound when `strictlyAbove`). */
function firstAtOrAbove(sortedIds: readonly NodeId[], bound: NodeId, strictlyAbove: boolean): number {
  let lo = 0;
  let hi = sortedIds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const order = Buffer.compare(sortedIds[mid], bound);
    if (order < 0 || (strictlyAbove && order === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A copy of id keeping its first `bits` bits, every later bit set from `fill` (0x00 or 0xff). */
function fillAfter(id: NodeId, bits: number, fill: 0 | 0xff): NodeId {
  const out = new Uint8Array(id);
  for (let b = bits; b < ID_BITS; b++) {
    const mask = 0x80 >> (b & 7);
    out[b >> 3] = fill ? out[b >> 3] | mask : out[b >> 3] & ~mask;
  }
  return out;
}

function bitOf(id: NodeId, bit: number): number {
  return (id[bit >> 3] >> (7 - (bit & 7))) & 1;
}

function withBit(id: NodeId, bit: number, value: number): NodeId {
  const out = new Uint8Array(id);
  const mask = 0x80 >> (bit & 7);
  out[bit >> 3] = value ? out[bit >> 3] | mask : out[bit >> 3] & ~mask;
  return out;
}

/** Up to k distinct indices of [from, to), drawn at random when there are more. */
function sample(input: { from: number; to: number; k: number; random: () => number; out: number[] }): void {
  const { from, to, k, random, out } = input;
  const size = to - from;
  if (size <= k) {
    for (let i = from; i < to; i++) out.push(i);
    return;
  }
  const picked = new Set<number>();
  while (picked.size < k) picked.add(from + Math.floor(random() * size));
  out.push(...picked);
}
