import { MinHeap } from '../collections/min-heap';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import type { NodeId } from '../id/node-id';
import { recordKeyString } from './record-key';
import {
  admitWrite,
  copySignedFields,
  signedOverheadBytes,
  type SignedFields,
  type SignedRejection,
} from './signed-admission';
import { SIGNED_RECORD_LIMITS } from './signed-records';

/** Why a record is held: our own publish, stored for a peer as one of the k closest, or cached on a lookup path. */
export type RecordOrigin = 'publish' | 'replica' | 'cache';

/** One held record. Treat as immutable: the store replaces the object on every change. */
export interface StoredRecord {
  readonly key: NodeId;
  readonly value: Uint8Array;
  readonly expiresAt: number;
  /** When the value was last written (by a peer's STORE or our own publish). */
  readonly storedAt: number;
  readonly origin: RecordOrigin;
  /** The IP the record came from; absent for our own records, which no per-IP quota limits. */
  readonly sourceIp?: string;
  /** When this node last pushed the record to the current k closest. */
  readonly lastReplicatedAt: number;
  /** Present for a signed mutable record: it was verified when stored and travels with the record. */
  readonly signed?: SignedFields;
}

export type PutRejection = 'too_large' | 'store_full' | 'quota_exceeded' | 'ttl_invalid' | SignedRejection;

export interface PutInput {
  readonly key: NodeId;
  readonly value: Uint8Array;
  readonly ttlMs: number;
  readonly origin: RecordOrigin;
  readonly sourceIp?: string;
  /** The signed fields of a signed record; verified here before anything is stored (docs/signed-records.md). */
  readonly signed?: SignedFields;
}

export type PutResult = { ok: true; record: StoredRecord } | { ok: false; reason: PutRejection };

export interface RecordStoreOptions {
  readonly now: () => number;
  readonly maxRecords?: number;
  readonly maxBytes?: number;
  readonly maxRecordsPerIp?: number;
  readonly maxValueBytes?: number;
  readonly maxTtlMs?: number;
}

export interface RecordStoreStats {
  records: number;
  bytes: number;
  rejected: Record<PutRejection, number>;
  /** Records dropped because their TTL ran out. */
  expired: number;
  /** Cache records dropped to make room for other records. */
  evicted: number;
}

const ORIGIN_RANK: Record<RecordOrigin, number> = { cache: 0, replica: 1, publish: 2 };

/** Stale heap entries allowed beyond the live ones before a heap is rebuilt. */
const HEAP_SLACK = 64;

/**
 * The bounded key-value store a node lends the network (sans-IO: time comes from `now()`).
 * Bounds: record count, value bytes, records per source IP. When full, cache records go first
 * (soonest expiry first); records we are responsible for are never evicted for new ones, so a flood
 * of STOREs cannot push out what the network relies on us to hold.
 * `size` and `bytes` count what is held, including records expired but not yet purged by expire()/get().
 */
export class RecordStore {
  private readonly now: () => number;
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly maxRecordsPerIp: number;
  private readonly maxValueBytes: number;
  private readonly maxTtlMs: number;

  private readonly records = new Map<string, StoredRecord>();
  /** Expiry deadlines, lazily deleted: an entry is live while the record still has that expiresAt. */
  private readonly expiryQueue = new MinHeap<string>();
  /** Cache records by expiry, lazily deleted likewise: the eviction order when the store is full. */
  private readonly cacheEvictionQueue = new MinHeap<string>();
  /**
   * Non-cache keys ordered by max(storedAt, lastReplicatedAt): each update sets one of them to now and
   * moves the key to the end, so dueForReplication() reads from the front and stops at the first fresh key.
   */
  private readonly replicationOrder = new Set<string>();
  private readonly recordsPerIp = new Map<string, number>();
  private totalBytes = 0;
  private cacheCount = 0;
  private cacheBytes = 0;
  private readonly rejected: Record<PutRejection, number> = {
    too_large: 0,
    store_full: 0,
    quota_exceeded: 0,
    ttl_invalid: 0,
    bad_signature: 0,
    bad_record: 0,
    seq_too_low: 0,
    seq_reused: 0,
    signed_key: 0,
  };
  private expiredCount = 0;
  private evictedCount = 0;

  constructor(options: RecordStoreOptions) {
    this.now = options.now;
    this.maxRecords = positive('maxRecords', options.maxRecords ?? DEFAULTS.maxStoreRecords);
    this.maxBytes = positive('maxBytes', options.maxBytes ?? DEFAULTS.maxStoreBytes);
    this.maxRecordsPerIp = positive('maxRecordsPerIp', options.maxRecordsPerIp ?? DEFAULTS.maxRecordsPerIp);
    this.maxValueBytes = positive('maxValueBytes', options.maxValueBytes ?? DEFAULTS.maxValueBytes);
    this.maxTtlMs = positive('maxTtlMs', options.maxTtlMs ?? DEFAULTS.maxRecordTtlMs);
  }

  get size(): number {
    return this.records.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /**
   * Stores, replaces or refreshes the record under key. Signed records follow docs/signed-records.md: the
   * signature is verified, a signed key stays signed, only a higher seq replaces the held version, and the
   * same version again (a republish) only extends the TTL.
   */
  put(input: PutInput): PutResult {
    const { key, value, ttlMs, origin, signed } = input;
    if (value.length > this.maxValueBytes) return this.reject('too_large');
    if (!(ttlMs > 0)) return this.reject('ttl_invalid');

    const now = this.now();
    const id = recordKeyString(key);
    const existing = this.live(id, now);
    const admission = admitWrite({
      key,
      existing,
      incoming: input,
      maxValueBytes: Math.min(this.maxValueBytes, SIGNED_RECORD_LIMITS.maxValueBytes),
    });
    if (admission.outcome === 'reject') return this.reject(admission.reason);
    // A cached copy (from anyone on a lookup path) must not overwrite or prolong what we hold authoritatively;
    // a newer signed version may replace the value, since its signature proves the publisher wrote it.
    const cacheOverHeld = existing !== undefined && origin === 'cache' && existing.origin !== 'cache';
    if (cacheOverHeld && (!signed || admission.outcome === 'refresh')) return { ok: true, record: existing };
    // A refresh keeps the held bytes (the same version by definition); only the lifetime moves.
    const kept = admission.outcome === 'refresh' && existing ? existing : input;

    const resultOrigin =
      existing && ORIGIN_RANK[existing.origin] > ORIGIN_RANK[origin] ? existing.origin : origin;
    // Our own records are exempt from per-IP quotas whoever else also stores them.
    const sourceIp = resultOrigin === 'publish' ? undefined : input.sourceIp;
    if (
      sourceIp !== undefined &&
      sourceIp !== existing?.sourceIp &&
      (this.recordsPerIp.get(sourceIp) ?? 0) >= this.maxRecordsPerIp
    ) {
      return this.reject('quota_exceeded');
    }

    const addedBytes = heldBytes(input) - (existing ? heldBytes(existing) : 0);
    if (!this.makeRoom({ id, existing, addedRecords: existing ? 0 : 1, addedBytes })) {
      return this.reject('store_full');
    }

    const expiresAt = now + Math.min(ttlMs, this.maxTtlMs);
    const record: StoredRecord = {
      key: new Uint8Array(key),
      // A copy: the caller's bytes may be a view into a whole received packet we should not keep alive.
      value: new Uint8Array(kept.value),
      // A signed record's lifetime only grows: a refresh or a newer version never shortens what a holder keeps.
      expiresAt: signed && existing?.signed ? Math.max(existing.expiresAt, expiresAt) : expiresAt,
      storedAt: now,
      origin: resultOrigin,
      ...(sourceIp !== undefined ? { sourceIp } : {}),
      lastReplicatedAt: existing?.lastReplicatedAt ?? now,
      ...(kept.signed ? { signed: copySignedFields(kept.signed) } : {}),
    };
    this.write(id, existing, record);
    return { ok: true, record };
  }

  /** The live record for key; an expired one is removed and reported as absent. */
  get(key: NodeId): StoredRecord | undefined {
    return this.live(recordKeyString(key), this.now());
  }

  delete(key: NodeId): boolean {
    const id = recordKeyString(key);
    const record = this.records.get(id);
    if (!record) return false;
    this.remove(id, record);
    return true;
  }

  /** Removes every expired record; returns how many. Cost is proportional to the expired records. */
  expire(): number {
    const now = this.now();
    let removed = 0;
    for (let top = this.expiryQueue.peek(); top && top.priority <= now; top = this.expiryQueue.peek()) {
      this.expiryQueue.pop();
      const record = this.records.get(top.item);
      if (record && record.expiresAt === top.priority) {
        this.remove(top.item, record);
        removed++;
      }
    }
    this.expiredCount += removed;
    return removed;
  }

  /**
   * Non-cache records neither pushed by us nor received from a peer within intervalMs, oldest first.
   * A record a peer stored here recently was also sent to the other k-1 closest (paper §2.5), so we skip it.
   */
  dueForReplication(intervalMs: number, limit = Infinity): StoredRecord[] {
    const now = this.now();
    const due: StoredRecord[] = [];
    for (const id of this.replicationOrder) {
      if (due.length >= limit) break;
      const record = this.records.get(id) as StoredRecord;
      if (now - Math.max(record.storedAt, record.lastReplicatedAt) < intervalMs) break;
      if (record.expiresAt <= now) {
        this.remove(id, record);
        this.expiredCount++;
        continue;
      }
      due.push(record);
    }
    return due;
  }

  markReplicated(key: NodeId): void {
    const id = recordKeyString(key);
    const record = this.records.get(id);
    if (!record) return;
    this.records.set(id, { ...record, lastReplicatedAt: this.now() });
    if (this.replicationOrder.delete(id)) this.replicationOrder.add(id);
  }

  /** Every live record (expired ones not yet purged are skipped). */
  *entries(): IterableIterator<StoredRecord> {
    const now = this.now();
    for (const record of this.records.values()) if (record.expiresAt > now) yield record;
  }

  stats(): RecordStoreStats {
    return {
      records: this.records.size,
      bytes: this.totalBytes,
      rejected: { ...this.rejected },
      expired: this.expiredCount,
      evicted: this.evictedCount,
    };
  }

  private reject(reason: PutRejection): PutResult {
    this.rejected[reason]++;
    return { ok: false, reason };
  }

  private live(id: string, now: number): StoredRecord | undefined {
    const record = this.records.get(id);
    if (!record || record.expiresAt > now) return record;
    this.remove(id, record);
    this.expiredCount++;
    return undefined;
  }

  /**
   * Ensures the pending write fits, evicting cache records (soonest expiry first) only when that is
   * enough; the record being replaced is never its own victim.
   */
  private makeRoom(write: {
    id: string;
    existing: StoredRecord | undefined;
    addedRecords: number;
    addedBytes: number;
  }): boolean {
    const { id, existing, addedRecords, addedBytes } = write;
    const fits = () =>
      this.records.size + addedRecords <= this.maxRecords && this.totalBytes + addedBytes <= this.maxBytes;
    if (fits()) return true;
    this.expire();
    if (fits()) return true;

    const replacingCache = existing?.origin === 'cache';
    const evictableRecords = this.cacheCount - (replacingCache ? 1 : 0);
    const evictableBytes = this.cacheBytes - (replacingCache ? heldBytes(existing) : 0);
    if (
      this.records.size - evictableRecords + addedRecords > this.maxRecords ||
      this.totalBytes - evictableBytes + addedBytes > this.maxBytes
    ) {
      return false;
    }

    const spared: number[] = [];
    while (!fits()) {
      const top = this.cacheEvictionQueue.pop();
      if (!top) break; // unreachable while cache accounting is exact
      const record = this.records.get(top.item);
      if (!record || record.origin !== 'cache' || record.expiresAt !== top.priority) continue;
      if (top.item === id) {
        spared.push(top.priority);
        continue;
      }
      this.remove(top.item, record);
      this.evictedCount++;
    }
    for (const priority of spared) this.cacheEvictionQueue.push(priority, id);
    return fits();
  }

  private write(id: string, existing: StoredRecord | undefined, record: StoredRecord): void {
    if (existing) this.unaccount(existing);
    this.records.set(id, record);
    this.account(record);

    // A live queue entry already exists when the deadline is unchanged; skipping the push keeps queues small.
    if (existing?.expiresAt !== record.expiresAt) {
      this.expiryQueue.push(record.expiresAt, id);
      this.compactExpiryQueue();
    }
    const cacheEntryLive = existing?.origin === 'cache' && existing.expiresAt === record.expiresAt;
    if (record.origin === 'cache' && !cacheEntryLive) {
      this.cacheEvictionQueue.push(record.expiresAt, id);
      this.compactCacheQueue();
    }

    this.replicationOrder.delete(id);
    if (record.origin !== 'cache') this.replicationOrder.add(id);
  }

  private remove(id: string, record: StoredRecord): void {
    this.records.delete(id);
    this.replicationOrder.delete(id);
    this.unaccount(record);
  }

  private account(record: StoredRecord): void {
    this.totalBytes += heldBytes(record);
    if (record.origin === 'cache') {
      this.cacheCount++;
      this.cacheBytes += heldBytes(record);
    }
    if (record.sourceIp !== undefined) {
      this.recordsPerIp.set(record.sourceIp, (this.recordsPerIp.get(record.sourceIp) ?? 0) + 1);
    }
  }

  private unaccount(record: StoredRecord): void {
    this.totalBytes -= heldBytes(record);
    if (record.origin === 'cache') {
      this.cacheCount--;
      this.cacheBytes -= heldBytes(record);
    }
    if (record.sourceIp !== undefined) {
      const left = (this.recordsPerIp.get(record.sourceIp) ?? 1) - 1;
      if (left > 0) this.recordsPerIp.set(record.sourceIp, left);
      else this.recordsPerIp.delete(record.sourceIp);
    }
  }

  private compactExpiryQueue(): void {
    if (this.expiryQueue.size <= 2 * this.records.size + HEAP_SLACK) return;
    const entries = [...this.records].map(([id, record]) => ({ priority: record.expiresAt, item: id }));
    this.expiryQueue.rebuild(entries);
  }

  private compactCacheQueue(): void {
    if (this.cacheEvictionQueue.size <= 2 * this.cacheCount + HEAP_SLACK) return;
    const entries: { priority: number; item: string }[] = [];
    for (const [id, record] of this.records) {
      if (record.origin === 'cache') entries.push({ priority: record.expiresAt, item: id });
    }
    this.cacheEvictionQueue.rebuild(entries);
  }
}

/** What a record counts against maxBytes: its value, plus salt, public key and signature when signed. */
function heldBytes(record: { readonly value: Uint8Array; readonly signed?: SignedFields }): number {
  return record.value.length + signedOverheadBytes(record.signed);
}

function positive(name: string, value: number): number {
  if (!(value > 0))
    throw new KademliaError(`RecordStore ${name} must be positive: ${value}`, 'CONFIG_INVALID');
  return value;
}
