import { DEFAULTS } from '../config/defaults';
import {
  bitAt,
  ID_BYTES,
  idEquals,
  randomIdWithPrefix,
  sharedPrefixLength,
  type NodeId,
} from '../id/node-id';
import type { MutableEntry } from './routing-entry';

export interface BucketOptions {
  /** The range's fixed leading bits; bits at and after `depth` are zero. */
  prefix: NodeId;
  /** How many leading bits every ID in the range shares (0 = the whole ID space). */
  depth: number;
  /** Live entries at most (k). */
  capacity?: number;
  /** Replacement-cache entries at most. */
  replacementCapacity?: number;
  /** Table clock at creation; counts as the bucket's last change. */
  createdAt: number;
}

/**
 * One k-bucket: the live entries of one ID-prefix range, ordered least recently seen first (the
 * eviction end), and a bounded replacement cache of contacts that proved themselves while the bucket
 * was full, most recently seen first (the promotion end). A plain container: the routing table keeps
 * the ID and endpoint indexes and decides what goes where.
 */
export class Bucket {
  readonly prefix: NodeId;
  readonly depth: number;
  readonly capacity: number;
  readonly replacementCapacity: number;
  /** Live entries, least recently seen first. */
  readonly live: MutableEntry[] = [];
  /** Replacement cache, most recently seen first. */
  readonly replacements: MutableEntry[] = [];
  /** Last time a live entry was added, removed or heard from. */
  lastChanged: number;
  /** Last time a lookup ran for a target in this range. */
  lastTouched: number;

  constructor(options: BucketOptions) {
    this.prefix = options.prefix;
    this.depth = options.depth;
    this.capacity = options.capacity ?? DEFAULTS.k;
    this.replacementCapacity = options.replacementCapacity ?? DEFAULTS.replacementCacheSize;
    this.lastChanged = options.createdAt;
    this.lastTouched = options.createdAt;
  }

  /** The bucket spanning the whole ID space. */
  static root(options: Omit<BucketOptions, 'prefix' | 'depth'>): Bucket {
    return new Bucket({ ...options, prefix: new Uint8Array(ID_BYTES), depth: 0 });
  }

  covers(id: NodeId): boolean {
    return sharedPrefixLength(this.prefix, id) >= this.depth;
  }

  isFull(): boolean {
    return this.live.length >= this.capacity;
  }

  /** The eviction candidate: the live entry heard from longest ago. */
  leastRecentlySeen(): MutableEntry | undefined {
    return this.live[0];
  }

  /** Inserts a live entry at its place in lastSeen order (the end, for an entry seen just now). */
  addLive(entry: MutableEntry): void {
    let i = this.live.length;
    while (i > 0 && this.live[i - 1].lastSeen > entry.lastSeen) i--;
    this.live.splice(i, 0, entry);
  }

  /** Re-sorts an entry whose lastSeen was just raised. */
  markSeen(entry: MutableEntry): void {
    if (this.removeLive(entry)) this.addLive(entry);
  }

  removeLive(entry: MutableEntry): boolean {
    const i = this.live.indexOf(entry);
    if (i < 0) return false;
    this.live.splice(i, 1);
    return true;
  }

  /**
   * Puts an entry at the fresh end of the replacement cache, replacing any entry with the same ID,
   * and trims the stale end. Returns the entries that left the cache (possibly `entry` itself when
   * the cache holds nothing), so the caller can drop them from its indexes.
   */
  cacheReplacement(entry: MutableEntry): MutableEntry[] {
    const dropped: MutableEntry[] = [];
    const existing = this.replacements.findIndex((e) => idEquals(e.id, entry.id));
    if (existing >= 0) {
      const [old] = this.replacements.splice(existing, 1);
      if (old !== entry) dropped.push(old);
    }
    this.replacements.unshift(entry);
    while (this.replacements.length > this.replacementCapacity) dropped.push(this.replacements.pop()!);
    return dropped;
  }

  removeReplacement(entry: MutableEntry): boolean {
    const i = this.replacements.indexOf(entry);
    if (i < 0) return false;
    this.replacements.splice(i, 1);
    return true;
  }

  /**
   * Moves the freshest replacements into free live slots. Keeps the invariant the table relies on:
   * a bucket with a non-empty replacement cache is full.
   */
  promoteReplacements(): MutableEntry[] {
    const promoted: MutableEntry[] = [];
    for (let entry = this.takePromotionCandidate(); entry; entry = this.takePromotionCandidate()) {
      this.addLive(entry);
      promoted.push(entry);
    }
    return promoted;
  }

  /**
   * Takes the freshest replacement out of the cache while a live slot is free, for a caller that
   * decides about each candidate itself (the table's IP-diversity check): a refused candidate is
   * simply not added back, so the cache never holds a spare that was passed over for a free slot.
   */
  takePromotionCandidate(): MutableEntry | undefined {
    return this.isFull() ? undefined : this.replacements.shift();
  }

  /**
   * The two halves of this range, one bit deeper. Live entries and replacements both follow their
   * IDs, keeping their order: losing the replacements on a split is a known bug elsewhere.
   */
  split(now: number): [Bucket, Bucket] {
    if (this.depth >= ID_BYTES * 8)
      throw new RangeError('a bucket of depth 160 holds one ID and cannot split');
    const oneSidePrefix = new Uint8Array(this.prefix);
    oneSidePrefix[this.depth >> 3] |= 0x80 >> (this.depth & 7);
    const shared = { capacity: this.capacity, replacementCapacity: this.replacementCapacity, createdAt: now };
    const zero = new Bucket({ ...shared, prefix: new Uint8Array(this.prefix), depth: this.depth + 1 });
    const one = new Bucket({ ...shared, prefix: oneSidePrefix, depth: this.depth + 1 });
    for (const entry of this.live) (bitAt(entry.id, this.depth) === 0 ? zero : one).live.push(entry);
    for (const entry of this.replacements) {
      (bitAt(entry.id, this.depth) === 0 ? zero : one).replacements.push(entry);
    }
    // A split range keeps being used: the halves inherit the parent's last lookup time.
    zero.lastTouched = one.lastTouched = this.lastTouched;
    return [zero, one];
  }

  /** The range's fixed bits as text, e.g. '0101'; '' for the root. */
  prefixBits(): string {
    let bits = '';
    for (let i = 0; i < this.depth; i++) bits += bitAt(this.prefix, i);
    return bits;
  }

  /** A random ID inside this range, for a refresh lookup. */
  randomIdInRange(): NodeId {
    return randomIdWithPrefix(this.prefix, this.depth);
  }
}
