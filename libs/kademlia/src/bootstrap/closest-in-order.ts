import { ID_BYTES, type NodeId } from '../id/node-id';
import { RECORD_BYTES, type RecordSlab } from './record-slab';

/** Records in ascending ID order: the slab itself (slot = position) or an index of its slots. */
export interface OrderedRecords {
  readonly slab: RecordSlab;
  /** Slots in ID order; absent when the slab's first `length` slots are themselves in ID order. */
  readonly order?: Uint32Array;
  readonly length: number;
}

/** At or below this many records a range is scanned and sorted rather than split further. */
const LEAF_SIZE = 24;
const ID_BITS = ID_BYTES * 8;

/**
 * The `count` accepted records XOR-closest to target, closest first, as slots. In an ID-sorted run every subtree
 * of the binary trie (all IDs sharing a prefix) is a contiguous range, and a range splits at the first bit where
 * its first and last IDs differ. The half whose bit matches the target's is closer than every record of the other
 * half, so visiting the matching half first and stopping once `count` are taken is exact. A query costs a binary
 * search per trie level on the way down (about log2(n) levels: long shared prefixes are skipped in one step) plus
 * the leaves it scans, not a pass over the buffer.
 */
export function collectClosest(input: {
  records: OrderedRecords;
  target: NodeId;
  count: number;
  accept: (slot: number) => boolean;
}): number[] {
  const { records, target, count, accept } = input;
  const { slab } = records;
  const out: number[] = [];
  if (count <= 0 || records.length === 0) return out;
  // Hot path: plain array reads, no per-byte method calls (a query reads a few hundred ID bytes).
  const bytes = slab.bytes;
  const order = records.order;
  const at = (pos: number): number => (order === undefined ? pos : order[pos]) * RECORD_BYTES;

  const scanLeaf = (lo: number, hi: number): void => {
    const taken: number[] = [];
    for (let pos = lo; pos < hi; pos++) {
      const slot = order === undefined ? pos : order[pos];
      if (accept(slot)) taken.push(slot);
    }
    if (taken.length > 1) taken.sort((a, b) => compareXor(slab, target, a, b));
    for (let i = 0; i < taken.length && out.length < count; i++) out.push(taken[i]);
  };

  // Positions [lo, hi) share their first `shared` bits; returns the first bit where the range's ends differ.
  const splitBit = (lo: number, hi: number, shared: number): number => {
    const a = at(lo);
    const b = at(hi - 1);
    for (let byte = shared >> 3; byte < ID_BYTES; byte++) {
      const x = bytes[a + byte] ^ bytes[b + byte];
      if (x !== 0) return byte * 8 + Math.clz32(x) - 24;
    }
    return ID_BITS;
  };

  // First position in [lo, hi) whose ID has `bit` set; the range shares every earlier bit, so it is monotonic.
  const firstWithBit = (lo: number, hi: number, bit: number): number => {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bytes[at(mid) + byte] & mask) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };

  const visit = (lo: number, hi: number, shared: number): void => {
    if (out.length >= count || lo >= hi) return;
    if (hi - lo <= LEAF_SIZE) return scanLeaf(lo, hi);
    const bit = splitBit(lo, hi, shared);
    if (bit >= ID_BITS) return scanLeaf(lo, hi);
    const mid = firstWithBit(lo, hi, bit);
    if (target[bit >> 3] & (0x80 >> (bit & 7))) {
      visit(mid, hi, bit + 1);
      visit(lo, mid, bit + 1);
    } else {
      visit(lo, mid, bit + 1);
      visit(mid, hi, bit + 1);
    }
  };

  visit(0, records.length, 0);
  return out;
}

/** Orders two records of a slab by XOR distance to target: negative when a is closer. */
export function compareXor(slab: RecordSlab, target: NodeId, a: number, b: number): number {
  const bytes = slab.bytes;
  const x = a * RECORD_BYTES;
  const y = b * RECORD_BYTES;
  for (let i = 0; i < ID_BYTES; i++) {
    const d = (bytes[x + i] ^ target[i]) - (bytes[y + i] ^ target[i]);
    if (d !== 0) return d;
  }
  return 0;
}

/** First position in [0, length) whose ID is >= id (lower bound). */
export function lowerBound(records: OrderedRecords, id: Uint8Array): number {
  const { slab, order } = records;
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (slab.compareId(order ? order[mid] : mid, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
