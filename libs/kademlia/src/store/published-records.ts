import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import type { NodeId } from '../id/node-id';
import { recordKeyString } from './record-key';
import { copySignedFields, type SignedFields } from './signed-admission';

/** A record this node published and keeps alive by republishing. */
export interface PublishedRecord {
  readonly key: NodeId;
  readonly value: Uint8Array;
  readonly ttlMs: number;
  /** A signed record's signed fields: republish re-sends the same signed version (a refresh on every holder). */
  readonly signed?: SignedFields;
}

export interface PublishedRecordsOptions {
  readonly now: () => number;
  readonly maxRecords?: number;
}

interface Entry extends PublishedRecord {
  readonly expiresAt: number;
  readonly republishedAt: number;
}

/**
 * What this node published itself (sans-IO). The publisher re-stores each record every republishMs so it
 * outlives its TTL on the holders for as long as the publisher runs; a record not republished in time
 * lapses at its own TTL here too. Bounded, so a misbehaving application cannot grow it without limit.
 */
export class PublishedRecords {
  private readonly now: () => number;
  private readonly maxRecords: number;
  /** Ordered by republishedAt (each add or republish moves the key to the end), so due keys come first. */
  private readonly entries = new Map<string, Entry>();

  constructor(options: PublishedRecordsOptions) {
    this.now = options.now;
    this.maxRecords = options.maxRecords ?? DEFAULTS.maxStoreRecords;
    if (!(this.maxRecords > 0)) {
      throw new KademliaError(
        `PublishedRecords maxRecords must be positive: ${this.maxRecords}`,
        'CONFIG_INVALID',
      );
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Records (or replaces) a publish made now. Returns false, keeping nothing, when the TTL is not positive
   * or maxRecords live records are already held under other keys.
   */
  add(record: PublishedRecord): boolean {
    if (!(record.ttlMs > 0)) return false;
    const id = recordKeyString(record.key);
    if (!this.entries.has(id) && this.entries.size >= this.maxRecords) {
      this.dropExpired();
      if (this.entries.size >= this.maxRecords) return false;
    }
    const now = this.now();
    this.entries.delete(id);
    this.entries.set(id, {
      key: new Uint8Array(record.key),
      value: new Uint8Array(record.value),
      ttlMs: record.ttlMs,
      ...(record.signed ? { signed: copySignedFields(record.signed) } : {}),
      expiresAt: now + record.ttlMs,
      republishedAt: now,
    });
    return true;
  }

  remove(key: NodeId): boolean {
    return this.entries.delete(recordKeyString(key));
  }

  has(key: NodeId): boolean {
    const entry = this.entries.get(recordKeyString(key));
    return entry !== undefined && entry.expiresAt > this.now();
  }

  /** Live records last (re)published at least intervalMs ago, oldest first. Lapsed records are dropped. */
  dueForRepublish(intervalMs: number): PublishedRecord[] {
    const now = this.now();
    const due: PublishedRecord[] = [];
    for (const [id, entry] of this.entries) {
      if (now - entry.republishedAt < intervalMs) break;
      if (entry.expiresAt <= now) {
        this.entries.delete(id);
        continue;
      }
      due.push(publicView(entry));
    }
    return due;
  }

  /** The record was stored on the network again: its lifetime restarts from now. */
  markRepublished(key: NodeId): void {
    const id = recordKeyString(key);
    const entry = this.entries.get(id);
    if (!entry) return;
    const now = this.now();
    this.entries.delete(id);
    this.entries.set(id, { ...entry, expiresAt: now + entry.ttlMs, republishedAt: now });
  }

  /** Every live record. */
  *records(): IterableIterator<PublishedRecord> {
    const now = this.now();
    for (const entry of this.entries.values()) {
      if (entry.expiresAt > now) yield publicView(entry);
    }
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(id);
  }
}

function publicView(entry: Entry): PublishedRecord {
  const { key, value, ttlMs, signed } = entry;
  return signed ? { key, value, ttlMs, signed } : { key, value, ttlMs };
}
