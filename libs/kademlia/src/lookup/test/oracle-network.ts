import { compareDistance, ID_BYTES, type NodeId } from '../../id/node-id';
import type { Contact } from '../../routing/contact';

/**
 * A synchronous model network for lookup specs: N nodes with random IDs whose routing knowledge is
 * "correct" Kademlia (for every shared-prefix length, up to k random nodes of that bucket), so a brute-force
 * oracle knows the true answer to every lookup. Seeded, so every run is identical.
 */

/** mulberry32: a tiny seeded PRNG, so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function randomIdFrom(random: () => number): NodeId {
  const id = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) id[i] = Math.floor(random() * 256);
  return id;
}

/** The k of `indices` nearest to target, nearest first (insertion into a short sorted list). */
export function nearest(
  ids: readonly NodeId[],
  indices: Iterable<number>,
  target: NodeId,
  k: number,
): number[] {
  const best: number[] = [];
  for (const index of indices) {
    if (best.length === k && compareDistance(target, ids[index], ids[best[k - 1]]) >= 0) continue;
    let at = best.length;
    while (at > 0 && compareDistance(target, ids[index], ids[best[at - 1]]) < 0) at--;
    best.splice(at, 0, index);
    if (best.length > k) best.pop();
  }
  return best;
}

export interface OracleNetwork {
  /** Sorted lexicographically. */
  readonly ids: NodeId[];
  readonly contacts: Contact[];
  readonly indexOf: Map<Contact, number>;
  /** knowledge[i]: the nodes node i knows, as indices. */
  readonly knowledge: number[][];
}

export function buildOracleNetwork(options: {
  nodes: number;
  k: number;
  random: () => number;
}): OracleNetwork {
  const { nodes, k, random } = options;
  const ids = Array.from({ length: nodes }, () => randomIdFrom(random)).sort((a, b) => Buffer.compare(a, b));
  const contacts = ids.map(
    (id, i): Contact => ({ id, publicKey: new Uint8Array(0), host: '10.0.0.1', port: i + 1 }),
  );
  const indexOf = new Map(contacts.map((c, i) => [c, i]));
  const knowledge = ids.map((id, self) => {
    const known: number[] = [];
    // Bucket p holds the IDs that share exactly p leading bits with ours: in sorted order, one
    // contiguous run between the IDs "our p bits, flipped bit p, then all zeros / all ones".
    for (let p = 0; p < ID_BYTES * 8; p++) {
      const from = lowerBound(ids, bucketBound(id, p, 0));
      const to = lowerBound(ids, bucketBound(id, p, 0xff), true);
      samplePush({ from, to, k, random, out: known });
      const ownFrom = lowerBound(ids, ownPrefixBound(id, p + 1, 0));
      const ownTo = lowerBound(ids, ownPrefixBound(id, p + 1, 0xff), true);
      if (ownTo - ownFrom <= 1) break;
    }
    return known.filter((j) => j !== self);
  });
  return { ids, contacts, indexOf, knowledge };
}

/** Our first p bits, then bit p flipped, then `fill` bits. */
function bucketBound(id: NodeId, p: number, fill: number): NodeId {
  const out = ownPrefixBound(id, p + 1, fill);
  out[p >> 3] ^= 0x80 >> (p & 7);
  return out;
}

/** Our first `bits` bits, then `fill` bits. */
function ownPrefixBound(id: NodeId, bits: number, fill: number): NodeId {
  const out = new Uint8Array(ID_BYTES).fill(fill);
  for (let b = 0; b < bits; b++) {
    const mask = 0x80 >> (b & 7);
    out[b >> 3] = (out[b >> 3] & ~mask) | (id[b >> 3] & mask);
  }
  return out;
}

/** First index whose ID is >= bound (or > bound when `after`). */
function lowerBound(ids: readonly NodeId[], bound: NodeId, after = false): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const order = Buffer.compare(ids[mid], bound);
    if (order < 0 || (after && order === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function samplePush(options: {
  from: number;
  to: number;
  k: number;
  random: () => number;
  out: number[];
}): void {
  const { from, to, k, random, out } = options;
  const size = to - from;
  if (size <= k) {
    for (let j = from; j < to; j++) out.push(j);
    return;
  }
  const picked = new Set<number>();
  while (picked.size < k) picked.add(from + Math.floor(random() * size));
  out.push(...picked);
}
