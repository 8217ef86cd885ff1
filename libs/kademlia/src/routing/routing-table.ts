import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { ID_BYTES, idEquals, isNodeId, type NodeId } from '../id/node-id';
import type { IpAdmissionRefusal, IpDiversityPolicy } from '../security/ip-diversity';
import { endpointKey } from '../transport/transport';
import { Bucket } from './bucket';
import { closestInBuckets } from './closest-in-buckets';
import type { Contact } from './contact';
import { IpAdmissionGate, type IpAdmissionStats } from './ip-admission';
import { addRttSample, createEntry, idKey, type MutableEntry, type RoutingEntry } from './routing-entry';

export type { RoutingEntry } from './routing-entry';
export type { IpAdmissionStats } from './ip-admission';

/**
 * 'refused_ip_diversity': the IP-diversity policy refused the contact at this address. A newcomer is
 * neither live nor cached (any spare it had is dropped); a known entry that moved keeps its old address,
 * untouched. `removed`/`promoted` may still be set: another ID's claim to the address was given up.
 */
export type ObserveOutcome =
  | 'added'
  | 'updated'
  | 'cached'
  | 'replaced_same_address'
  | 'ignored_self'
  | 'refused_ip_diversity';

export interface ObserveResult {
  outcome: ObserveOutcome;
  /** Why the IP-diversity policy refused the contact (outcome 'refused_ip_diversity'). */
  reason?: IpAdmissionRefusal;
  /** The newcomer's live entry when it is in the table (added, updated, or replaced and admitted). */
  entry?: RoutingEntry;
  /** The entry removed because the newcomer now answers at its address. */
  removed?: RoutingEntry;
  /** Bucket full and its least recently seen entry is stale: the node should ping it. */
  pingCandidate?: RoutingEntry;
  /** A replacement that took the free slot left by `removed`. */
  promoted?: RoutingEntry;
}

export interface RoutingTableOptions {
  localId: NodeId;
  /** Table clock (monotonic ms); tests pass a fake one. */
  now: () => number;
  k?: number;
  splitRelaxation?: number;
  replacementCacheSize?: number;
  maxFailures?: number;
  recentlySeenMs?: number;
  /**
   * Limits on entries per address group (Sybil/eclipse resistance). The table owns its counts: it
   * resets them at construction and reports every live entry that comes, goes or moves. Omitted,
   * addresses are not limited.
   */
  ipDiversity?: IpDiversityPolicy;
}

export interface BucketInfo {
  depth: number;
  /** The range's fixed bits, e.g. '0101'. */
  prefix: string;
  size: number;
  replacements: number;
  lastChanged: number;
  /** Last lookup for a target in this range (see touch()). */
  lastTouched: number;
}

export interface Eviction {
  evicted?: RoutingEntry;
  promoted?: RoutingEntry;
}

/**
 * The Kademlia routing table as a pure state machine: buckets over ID-prefix ranges (a binary trie
 * kept as a list sorted by prefix), each with a replacement cache. It never sends anything; it returns
 * decisions ("ping this entry") that the node performs. Only contacts that proved themselves enter,
 * through observe(); replacement-cache entries are never handed out by closest().
 */
export class RoutingTable {
  readonly localId: NodeId;
  private readonly now: () => number;
  private readonly k: number;
  private readonly splitRelaxation: number;
  private readonly replacementCacheSize: number;
  private readonly maxFailures: number;
  private readonly recentlySeenMs: number;
  private readonly ipAdmission: IpAdmissionGate;
  /** Leaves of the prefix trie in prefix order; together they cover the ID space exactly once. */
  private buckets: Bucket[];
  private readonly live = new Map<string, MutableEntry>();
  private readonly liveByEndpoint = new Map<string, MutableEntry>();
  private readonly cached = new Map<string, MutableEntry>();
  private readonly cachedByEndpoint = new Map<string, MutableEntry>();

  constructor(options: RoutingTableOptions) {
    if (!isNodeId(options.localId)) throw new KademliaError('localId must be 20 bytes', 'CONFIG_INVALID');
    this.localId = new Uint8Array(options.localId);
    this.now = options.now;
    this.k = positiveInteger('k', options.k ?? DEFAULTS.k, 1);
    this.splitRelaxation = positiveInteger(
      'splitRelaxation',
      options.splitRelaxation ?? DEFAULTS.splitRelaxation,
      1,
    );
    this.replacementCacheSize = positiveInteger(
      'replacementCacheSize',
      options.replacementCacheSize ?? DEFAULTS.replacementCacheSize,
      0,
    );
    this.maxFailures = positiveInteger('maxFailures', options.maxFailures ?? DEFAULTS.maxFailures, 1);
    this.recentlySeenMs = options.recentlySeenMs ?? DEFAULTS.recentlySeenMs;
    if (!(this.recentlySeenMs >= 0)) throw new KademliaError('recentlySeenMs must be >= 0', 'CONFIG_INVALID');
    this.ipAdmission = new IpAdmissionGate(options.ipDiversity);
    this.buckets = [
      Bucket.root({
        capacity: this.k,
        replacementCapacity: this.replacementCacheSize,
        createdAt: this.now(),
      }),
    ];
  }

  /** The ONLY way in: a contact that proved itself (answered us, or sent us an authenticated request). */
  observe(contact: Contact, info?: { rttMs?: number }): ObserveResult {
    if (!isNodeId(contact.id)) throw new RangeError('contact id must be 20 bytes');
    if (idEquals(contact.id, this.localId)) return { outcome: 'ignored_self' };
    const now = this.now();

    // Same address, different ID: the peer restarted with a new identity, or someone lies about it.
    // The session layer authenticated the newcomer just now, so the newest claim wins.
    const address = endpointKey(contact);
    const liveHolder = this.liveByEndpoint.get(address);
    const removed = liveHolder && !idEquals(liveHolder.id, contact.id) ? liveHolder : undefined;
    if (removed) this.detachLive(removed, now);
    const cachedHolder = this.cachedByEndpoint.get(address);
    if (cachedHolder && !idEquals(cachedHolder.id, contact.id)) this.dropCached(cachedHolder);

    const existing = this.live.get(idKey(contact.id));
    const result = existing
      ? this.update(existing, contact, now, info?.rttMs)
      : this.insert(contact, now, info?.rttMs);
    if (!removed) return result;
    const bucket = this.bucketFor(removed.id);
    const [promoted] = this.promoteInto(bucket);
    const outcome = result.outcome === 'refused_ip_diversity' ? result.outcome : 'replaced_same_address';
    return { ...result, outcome, removed, ...(promoted && { promoted }) };
  }

  /**
   * A request to this contact failed. Evicts it at maxFailures consecutive failures (one lost UDP
   * packet must not cost a good node its place) and promotes the freshest replacement.
   */
  recordFailure(id: NodeId): Eviction {
    const key = idKey(id);
    const entry = this.live.get(key);
    if (entry) {
      entry.failures++;
      return entry.failures >= this.maxFailures ? this.evict(id) : {};
    }
    const spare = this.cached.get(key);
    if (spare && ++spare.failures >= this.maxFailures) this.dropCached(spare);
    return {};
  }

  /** Forgets a contact (live or cached); a replacement takes a freed live slot. */
  remove(id: NodeId): RoutingEntry | undefined {
    return this.evict(id).evicted;
  }

  /** remove() that also tells which replacement was promoted into the freed slot. */
  evict(id: NodeId): Eviction {
    const key = idKey(id);
    const entry = this.live.get(key);
    if (!entry) {
      const spare = this.cached.get(key);
      if (spare) this.dropCached(spare);
      return {};
    }
    const now = this.now();
    this.detachLive(entry, now);
    const [promoted] = this.promoteInto(this.bucketFor(entry.id));
    return promoted ? { evicted: entry, promoted } : { evicted: entry };
  }

  get(id: NodeId): RoutingEntry | undefined {
    return this.live.get(idKey(id));
  }

  findByEndpoint(host: string, port: number): RoutingEntry | undefined {
    return this.liveByEndpoint.get(endpointKey({ host, port }));
  }

  /**
   * The n live entries nearest to target by XOR distance, nearest first. Visits buckets in distance
   * order and sorts only inside the buckets it takes, so it costs about O(n log k), not O(table).
   */
  closest(target: NodeId, n: number, filter?: (e: RoutingEntry) => boolean): RoutingEntry[] {
    return closestInBuckets({ buckets: this.buckets, target, n, filter });
  }

  size(): number {
    return this.live.size;
  }

  entries(): IterableIterator<RoutingEntry> {
    return this.live.values();
  }

  /** The live entry heard from longest ago (for revalidation pings); O(buckets), not O(entries). */
  stalest(): RoutingEntry | undefined {
    let stalest: MutableEntry | undefined;
    for (const bucket of this.buckets) {
      const oldest = bucket.leastRecentlySeen();
      if (oldest && (!stalest || oldest.lastSeen < stalest.lastSeen)) stalest = oldest;
    }
    return stalest;
  }

  bucketInfo(): BucketInfo[] {
    return this.buckets.map((b) => ({
      depth: b.depth,
      prefix: b.prefixBits(),
      size: b.live.length,
      replacements: b.replacements.length,
      lastChanged: b.lastChanged,
      lastTouched: b.lastTouched,
    }));
  }

  /** Marks the bucket covering target as recently used (a lookup for it ran). */
  touch(target: NodeId): void {
    this.bucketFor(target).lastTouched = this.now();
  }

  /** Refusal counters and tracked groups of the IP-diversity policy; undefined when the table has none. */
  ipDiversityStats(): IpAdmissionStats | undefined {
    return this.ipAdmission.stats();
  }

  /**
   * Random target IDs, one per bucket idle (no change and no touch) for at least maxIdleMs. Changes
   * nothing: the node runs the lookups, and their touch() makes the buckets fresh again.
   */
  refreshTargets(maxIdleMs: number): NodeId[] {
    const now = this.now();
    return this.buckets
      .filter((b) => now - Math.max(b.lastChanged, b.lastTouched) >= maxIdleMs)
      .map((b) => b.randomIdInRange());
  }

  /** A live entry proved itself again; a new host must pass the IP-diversity limits first. */
  private update(
    entry: MutableEntry,
    contact: Contact,
    now: number,
    rttMs: number | undefined,
  ): ObserveResult {
    const bucket = this.bucketFor(entry.id);
    // Refused, the entry is left untouched: the proof came from an address we do not record, so it says
    // nothing about the recorded one, and an entry unreachable there must still fail its way out.
    const refusal =
      entry.host === contact.host ? undefined : this.ipAdmission.checkMove(entry, contact.host, bucket);
    if (refusal) return { outcome: 'refused_ip_diversity', reason: refusal };
    this.refresh(entry, contact, now, rttMs);
    bucket.markSeen(entry);
    bucket.lastChanged = now;
    return { outcome: 'updated', entry };
  }

  private insert(contact: Contact, now: number, rttMs: number | undefined): ObserveResult {
    const key = idKey(contact.id);
    const spare = this.cached.get(key);
    // Whole-table limits before anything splits: a swarm from one group near our ID must not deepen
    // the trie for contacts that will not be kept.
    const early = this.ipAdmission.checkTable(contact.host);
    if (early) return this.refuse(early, spare);
    if (spare) this.refresh(spare, contact, now, rttMs);
    let index = this.indexFor(contact.id);
    while (this.buckets[index].isFull() && this.canSplit(this.buckets[index])) {
      this.splitAt(index, now);
      index = this.indexFor(contact.id);
    }
    const bucket = this.buckets[index];

    if (!bucket.isFull()) {
      // Again with the bucket's peers, and the table's counts as the split's promotions left them.
      const refusal = this.ipAdmission.checkLive(contact.host, bucket);
      if (refusal) return this.refuse(refusal, spare);
      let entry: MutableEntry;
      if (spare) {
        bucket.removeReplacement(spare);
        this.unindexCached(spare);
        entry = spare;
      } else {
        entry = createEntry(contact, now, rttMs);
      }
      bucket.addLive(entry);
      bucket.lastChanged = now;
      this.indexLive(entry);
      return { outcome: 'added', entry };
    }

    const refusal = this.ipAdmission.checkCache(contact.host, bucket, spare);
    if (refusal) return this.refuse(refusal, spare);
    const entry = spare ?? createEntry(contact, now, rttMs);
    this.indexCached(entry);
    for (const dropped of bucket.cacheReplacement(entry)) this.unindexCached(dropped);
    const oldest = bucket.leastRecentlySeen();
    // An entry heard from within recentlySeenMs is known alive; pinging it would only add load.
    return oldest && now - oldest.lastSeen >= this.recentlySeenMs
      ? { outcome: 'cached', pingCandidate: oldest }
      : { outcome: 'cached' };
  }

  /**
   * A contact the IP-diversity policy refused does not keep a cache slot either: it would only be passed
   * over at promotion, and one group could otherwise flush every admissible spare out of the cache.
   */
  private refuse(reason: IpAdmissionRefusal, spare: MutableEntry | undefined): ObserveResult {
    if (spare) this.dropCached(spare);
    return { outcome: 'refused_ip_diversity', reason };
  }

  /** It proved itself again: fresh lastSeen, no failures, new RTT sample, current address. */
  private refresh(entry: MutableEntry, contact: Contact, now: number, rttMs: number | undefined): void {
    entry.lastSeen = now;
    entry.failures = 0;
    addRttSample(entry, rttMs);
    if (entry.host === contact.host && entry.port === contact.port) return;
    const isLive = this.live.get(idKey(entry.id)) === entry;
    const index = isLive ? this.liveByEndpoint : this.cachedByEndpoint;
    if (index.get(endpointKey(entry)) === entry) index.delete(endpointKey(entry));
    if (isLive) this.ipAdmission.moved(entry.host, contact.host);
    entry.host = contact.host;
    entry.port = contact.port;
    index.set(endpointKey(entry), entry);
  }

  /** Paper §4.2: the range holding our own ID always splits; others while depth % b != 0. */
  private canSplit(bucket: Bucket): boolean {
    if (bucket.depth >= ID_BYTES * 8) return false;
    return bucket.covers(this.localId) || bucket.depth % this.splitRelaxation !== 0;
  }

  private splitAt(index: number, now: number): void {
    const halves = this.buckets[index].split(now);
    this.buckets.splice(index, 1, ...halves);
    for (const half of halves) this.promoteInto(half);
  }

  /**
   * Fills free live slots of a bucket from its replacement cache, freshest first. Each candidate is
   * checked against the IP-diversity limits as they are now, after the ones promoted before it.
   */
  private promoteInto(bucket: Bucket): MutableEntry[] {
    const promoted: MutableEntry[] = [];
    for (let entry = bucket.takePromotionCandidate(); entry; entry = bucket.takePromotionCandidate()) {
      this.unindexCached(entry);
      if (!this.ipAdmission.admitsPromotion(entry, bucket)) continue;
      bucket.addLive(entry);
      this.indexLive(entry);
      promoted.push(entry);
    }
    if (promoted.length > 0) bucket.lastChanged = this.now();
    return promoted;
  }

  private detachLive(entry: MutableEntry, now: number): void {
    const bucket = this.bucketFor(entry.id);
    bucket.removeLive(entry);
    bucket.lastChanged = now;
    this.live.delete(idKey(entry.id));
    const address = endpointKey(entry);
    if (this.liveByEndpoint.get(address) === entry) this.liveByEndpoint.delete(address);
    this.ipAdmission.removed(entry);
  }

  private dropCached(entry: MutableEntry): void {
    this.bucketFor(entry.id).removeReplacement(entry);
    this.unindexCached(entry);
  }

  private indexLive(entry: MutableEntry): void {
    this.live.set(idKey(entry.id), entry);
    this.liveByEndpoint.set(endpointKey(entry), entry);
    this.ipAdmission.added(entry);
  }

  private indexCached(entry: MutableEntry): void {
    this.cached.set(idKey(entry.id), entry);
    this.cachedByEndpoint.set(endpointKey(entry), entry);
  }

  private unindexCached(entry: MutableEntry): void {
    const key = idKey(entry.id);
    if (this.cached.get(key) === entry) this.cached.delete(key);
    const address = endpointKey(entry);
    if (this.cachedByEndpoint.get(address) === entry) this.cachedByEndpoint.delete(address);
  }

  private bucketFor(id: NodeId): Bucket {
    return this.buckets[this.indexFor(id)];
  }

  /** Binary search for the last bucket whose range starts at or before id: the one covering it. */
  private indexFor(id: NodeId): number {
    let lo = 0;
    let hi = this.buckets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (compareBytes(this.buckets[mid].prefix, id) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_BYTES; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function positiveInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new KademliaError(`${name} must be an integer >= ${min}`, 'CONFIG_INVALID', { [name]: value });
  }
  return value;
}
