import { randomBytes } from 'node:crypto';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { ID_BYTES, idToHex, isNodeId, type NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import { cidrContains, parseCidr, tryIpToBytes, type Cidr } from '../security/cidr';
import { bytesToIp } from '../wire/ip-address';
import { AddressLimits, type AddressLimitRefusal } from './address-limits';
import type {
  BufferRecord,
  BufferRefusal,
  ContactBufferOptions,
  ContactBufferStats,
  FailOutcome,
  OfferOutcome,
  VerifyOutcome,
  VerifyTask,
} from './buffer-types';

export type {
  BufferRecord,
  BufferRefusal,
  ContactBufferOptions,
  ContactBufferStats,
  FailOutcome,
  OfferOutcome,
  VerifyOutcome,
  VerifyTask,
} from './buffer-types';
import { collectClosest } from './closest-in-order';
import { Ipv6Table } from './ipv6-table';
import {
  PUBLIC_KEY_BYTES,
  REMOVED,
  wordFailures,
  wordIsV6,
  wordSeconds,
  type RecordSlab,
} from './record-slab';
import { SortedStore } from './sorted-store';
import { STAGED_PENDING, STAGED_VERIFIED, StagingArea } from './staging-area';

const D = DEFAULTS.bootstrapBuffer;
/** Tasks handed out and not yet reported, at most; bounds the lease map whatever the caller does. */
const MAX_LEASES = 4_096;

type Located = { readonly slab: RecordSlab; readonly slot: number; readonly staged: boolean };

/**
 * The bootstrap role's contact buffer: up to a million contacts in ~64 bytes each (see record-slab.ts), every one
 * pinged before closest() hands it out and re-pinged on a schedule. A sans-IO state machine: offer() what traffic
 * shows, ask nextToVerify() whom to ping, report with markVerified()/markFailed().
 *
 * Rules that keep it honest: a flood of new IDs fills only the small staging area, never pushes out verified
 * entries; an address change is applied only after a ping at the new address answers; per-IP and per-group
 * limits keep one host or one /24 from filling it.
 */
export class ContactBuffer {
  readonly capacity: number;
  private readonly now: () => number;
  private readonly epochMs: number;
  private readonly maxFailures: number;
  private readonly reverifySeconds: number;
  private readonly pendingRetrySeconds: number;
  private readonly maxMoves: number;
  private readonly leaseMs: number;
  private readonly acceptAddress?: (host: string) => boolean;
  private readonly exempt: Cidr[];
  private readonly store: SortedStore;
  private readonly staging: StagingArea;
  private readonly limits: AddressLimits;
  private readonly v6: Ipv6Table;
  private readonly moves = new Map<string, { host: string; port: number }>();
  private readonly leases = new Map<string, number>();
  private suspect = 0;
  private failedRemovals = 0;
  private movesApplied = 0;
  private merges = 0;
  private rttMs: number | undefined;
  private readonly refusals: ContactBufferStats['refusals'] = {
    invalid_contact: 0,
    address_filtered: 0,
    full: 0,
    pending_full: 0,
    ip_limit: 0,
    group_limit: 0,
    move_refused: 0,
  };

  constructor(options: ContactBufferOptions) {
    this.capacity = intIn('capacity', options.capacity ?? D.capacity, 1, D.maxCapacity);
    this.now = options.now;
    this.epochMs = options.now();
    this.maxFailures = intIn('maxFailures', options.maxFailures ?? D.maxFailures, 1, REMOVED - 1);
    this.reverifySeconds = Math.ceil(
      intIn('reverifyAfterMs', options.reverifyAfterMs ?? D.reverifyAfterMs, 1000, 2 ** 40) / 1000,
    );
    this.pendingRetrySeconds = Math.ceil(
      intIn('pendingRetryMs', options.pendingRetryMs ?? D.pendingRetryMs, 0, 2 ** 40) / 1000,
    );
    this.maxMoves = intIn('maxMoveCandidates', options.maxMoveCandidates ?? D.maxMoveCandidates, 0, 1 << 20);
    this.leaseMs = intIn('leaseMs', options.leaseMs ?? D.leaseMs, 1, 2 ** 40);
    this.acceptAddress = options.acceptAddress;
    this.exempt = (options.limitExempt ?? []).map((cidr) => parseCidr(cidr));
    const derived = Math.round(this.capacity * D.stagingFraction);
    const staging = options.stagingSize ?? Math.min(D.stagingMax, Math.max(D.stagingMin, derived));
    this.store = new SortedStore(this.capacity);
    this.staging = new StagingArea(intIn('stagingSize', staging, 1, 1 << 20));
    this.limits = new AddressLimits({
      capacity: this.capacity,
      maxPerIp: options.maxPerIp ?? D.maxPerIp,
      maxPerGroup: options.maxPerGroup ?? D.maxPerGroup,
      seed: options.seed ?? randomBytes(4).readInt32LE(0),
    });
    this.v6 = new Ipv6Table(this.capacity + this.staging.capacity);
  }

  /** Entries held: verified, suspect and pending. */
  get size(): number {
    return this.store.live + this.staging.size;
  }

  /** A contact seen in traffic or in a NODES reply. New ones wait (pending) for a ping; known ones never move here. */
  offer(contact: Contact): OfferOutcome {
    const ip = validAddress(contact);
    if (
      !ip ||
      !isNodeId(contact.id) ||
      !(contact.publicKey instanceof Uint8Array) ||
      contact.publicKey.length !== PUBLIC_KEY_BYTES
    ) {
      return this.refuse('invalid_contact');
    }
    if (this.acceptAddress && !this.acceptAddress(contact.host)) return this.refuse('address_filtered');
    const found = this.locate(contact.id);
    if (found) {
      if (this.sameAddress(found, ip, contact.port)) return 'known';
      this.proposeMove(contact.id, bytesToIp(ip), contact.port);
      return 'move_pending';
    }
    if (this.size >= this.capacity) return this.refuse('full');
    if (this.staging.size >= this.staging.capacity && this.staging.verified > 0) this.flush();
    if (this.staging.size >= this.staging.capacity) return this.refuse('pending_full');
    const limited = this.countIn(ip);
    if (limited) return this.refuse(limited);
    const ipField = ip.length === 4 ? ipv4Field(ip) : this.v6.add(ip);
    if (ipField === undefined) {
      this.countOut(ip);
      return this.refuse('full');
    }
    const fields = {
      id: contact.id,
      publicKey: contact.publicKey,
      ipField,
      port: contact.port,
      v6: ip.length !== 4,
      failures: 0,
      seconds: this.seconds(),
    };
    this.staging.add(fields, STAGED_PENDING);
    return 'added';
  }

  /** Up to max contacts to ping now: pending first (earliest due), then address moves, then re-verifications. */
  nextToVerify(max: number): VerifyTask[] {
    const now = this.now();
    this.expireLeases(now);
    const budget = Math.min(Math.max(0, Math.floor(max)), MAX_LEASES - this.leases.size);
    const tasks: VerifyTask[] = [];
    const nowSeconds = this.seconds();
    const leased = (slab: RecordSlab, slot: number) => this.leases.has(idToHex(slab.id(slot)));
    for (const slot of this.staging.duePending({
      nowSeconds,
      max: budget,
      skip: (s) => leased(this.staging.slab, s),
    })) {
      tasks.push({ ...this.contactAt(this.staging.slab, slot), kind: 'pending' });
    }
    for (const [hex, address] of this.moves) {
      if (tasks.length >= budget) break;
      if (this.leases.has(hex)) continue;
      const found = this.locate(idFromHexUnchecked(hex));
      if (!found) {
        this.moves.delete(hex);
        continue;
      }
      tasks.push({ ...this.contactAt(found.slab, found.slot), ...address, kind: 'move' });
    }
    // The sweep covers the sorted store only: a staged entry that is due goes there first.
    if (this.staging.hasVerifiedAtOrBefore(nowSeconds - this.reverifySeconds)) this.flush();
    const sweep = this.store.sweep({
      nowSeconds,
      dueAfterSeconds: this.reverifySeconds,
      max: budget - tasks.length,
      budget: Math.max(4096, Math.ceil(this.store.length / 64)),
      skip: (pos) => leased(this.store.slab, pos),
    });
    for (const pos of sweep.due) tasks.push({ ...this.contactAt(this.store.slab, pos), kind: 'reverify' });
    for (const task of tasks) this.leases.set(idToHex(task.id), now + this.leaseMs);
    // Positions are only valid until a merge, so a sweep's wrap-around merges after the tasks are built.
    if (sweep.wrapped && this.staging.verified > 0) this.flush();
    return tasks;
  }

  /** The contact answered a ping at task's address. At a proposed new address, the entry moves there. */
  markVerified(task: Pick<Contact, 'id' | 'host' | 'port'>, rttMs?: number): VerifyOutcome {
    const hex = idToHex(task.id);
    this.leases.delete(hex);
    const found = this.locate(task.id);
    const ip = tryIpToBytes(task.host);
    if (!found || !ip) return 'ignored';
    if (rttMs !== undefined && Number.isFinite(rttMs) && rttMs >= 0) {
      this.rttMs = this.rttMs === undefined ? rttMs : this.rttMs + (rttMs - this.rttMs) / 16;
    }
    if (!this.sameAddress(found, ip, task.port)) {
      const move = this.moves.get(hex);
      if (!move || move.host !== bytesToIp(ip) || move.port !== task.port) return 'ignored';
      this.moves.delete(hex);
      const limited = this.countIn(ip);
      if (limited) {
        this.refusals.move_refused++;
        return 'move_refused';
      }
      this.setAddress(found, ip, task.port);
      this.movesApplied++;
      this.setVerified(found);
      return 'moved';
    }
    this.setVerified(found);
    return 'verified';
  }

  /** A ping to task's address went unanswered. Removes the entry at maxFailures; a failed move just drops the move. */
  markFailed(task: Pick<Contact, 'id' | 'host' | 'port'>): FailOutcome {
    const hex = idToHex(task.id);
    this.leases.delete(hex);
    const found = this.locate(task.id);
    const ip = tryIpToBytes(task.host);
    if (!found || !ip) return 'ignored';
    if (!this.sameAddress(found, ip, task.port)) {
      const move = this.moves.get(hex);
      if (!move || move.host !== bytesToIp(ip) || move.port !== task.port) return 'ignored';
      this.moves.delete(hex);
      return 'move_dropped';
    }
    const { slab, slot } = found;
    const word = slab.word(slot);
    const failures = wordFailures(word) + 1;
    const pending = found.staged && this.staging.stateOf(slot) === STAGED_PENDING;
    if (failures >= this.maxFailures) {
      this.removeEntry(found);
      this.failedRemovals++;
      return 'removed';
    }
    if (!pending && failures === 1) this.suspect++;
    slab.setStatus(slot, failures, pending ? this.seconds() + this.pendingRetrySeconds : wordSeconds(word));
    return 'failed';
  }

  /** Gives a task back unanswered (the ping was aborted): it may be handed out again at once. */
  release(task: Pick<Contact, 'id'>): void {
    this.leases.delete(idToHex(task.id));
  }

  /**
   * The count contacts XOR-closest to target, closest first: by default only verified ones whose last ping
   * succeeded. Exact, in about O(log n + count) (see closest-in-order.ts).
   */
  closest(
    target: NodeId,
    count: number,
    options: { filter?: 'verified' | 'all'; exclude?: NodeId } = {},
  ): Contact[] {
    if (!isNodeId(target)) throw new RangeError('target must be 20 bytes');
    const all = options.filter === 'all';
    const { exclude } = options;
    const ok = (slab: RecordSlab, slot: number) =>
      exclude === undefined || slab.compareId(slot, exclude) !== 0;
    const fromStore = collectClosest({
      records: this.store.records,
      target,
      count,
      accept: (pos) => {
        const failures = wordFailures(this.store.slab.word(pos));
        return (all ? failures !== REMOVED : failures === 0) && ok(this.store.slab, pos);
      },
    });
    const staged = this.staging;
    const fromStaging = collectClosest({
      records: staged.records,
      target,
      count,
      accept: (slot) =>
        (all || (staged.stateOf(slot) === STAGED_VERIFIED && wordFailures(staged.slab.word(slot)) === 0)) &&
        ok(staged.slab, slot),
    });
    const out: Contact[] = [];
    let i = 0;
    let j = 0;
    while (out.length < count && (i < fromStore.length || j < fromStaging.length)) {
      const takeStore =
        j >= fromStaging.length ||
        (i < fromStore.length &&
          xorOrder(target, this.store.slab, fromStore[i], staged.slab, fromStaging[j]) < 0);
      out.push(
        takeStore
          ? this.contactAt(this.store.slab, fromStore[i++])
          : this.contactAt(staged.slab, fromStaging[j++]),
      );
    }
    return out;
  }

  /** Whether the buffer holds id, and in which state. */
  stateOf(id: NodeId): 'verified' | 'suspect' | 'pending' | undefined {
    const found = this.locate(id);
    if (!found) return undefined;
    if (found.staged && this.staging.stateOf(found.slot) === STAGED_PENDING) return 'pending';
    return wordFailures(found.slab.word(found.slot)) === 0 ? 'verified' : 'suspect';
  }

  stats(): ContactBufferStats {
    const verifiedOrSuspect = this.store.live + this.staging.verified;
    return {
      capacity: this.capacity,
      size: this.size,
      verified: verifiedOrSuspect - this.suspect,
      suspect: this.suspect,
      pending: this.staging.pending,
      ipv6: this.v6.size,
      moveCandidates: this.moves.size,
      leased: this.leases.size,
      failedRemovals: this.failedRemovals,
      movesApplied: this.movesApplied,
      merges: this.merges,
      refusals: { ...this.refusals },
      verifyRttMs: this.rttMs,
      bytesUsed:
        this.store.slab.bytes.byteLength +
        this.staging.byteLength() +
        this.limits.byteLength() +
        this.v6.byteLength(),
    };
  }

  /** Verified and suspect entries in ID order (pending ones are cheap to learn again), for snapshots. */
  *records(): Generator<BufferRecord> {
    this.flush();
    const nowSeconds = this.seconds();
    const slab = this.store.slab;
    for (let pos = 0; pos < this.store.length; pos++) {
      const word = slab.word(pos);
      if (wordFailures(word) === REMOVED) continue;
      yield {
        publicKey: slab.publicKey(pos),
        ip: this.ipOf(slab, pos),
        port: slab.port(pos),
        failures: wordFailures(word),
        ageSeconds: Math.max(0, nowSeconds - wordSeconds(word)),
      };
    }
  }

  /**
   * Empties the buffer and loads records in ascending ID order (as records() yields them); returns how many were
   * taken. Records out of order, duplicated, over capacity or over an address limit are skipped, never thrown.
   */
  load(entries: Iterable<{ id: NodeId } & BufferRecord>): { loaded: number; skipped: number } {
    this.clear();
    let loaded = 0;
    let skipped = 0;
    const nowSeconds = this.seconds();
    for (const entry of entries) {
      const failures = Math.min(entry.failures, this.maxFailures - 1);
      const v6 = entry.ip.length !== 4;
      if (
        this.store.length >= this.capacity ||
        (this.store.length > 0 && this.store.slab.compareId(this.store.length - 1, entry.id) >= 0) ||
        this.countIn(entry.ip)
      ) {
        skipped++;
        continue;
      }
      const ipField = v6 ? this.v6.add(entry.ip) : ipv4Field(entry.ip);
      if (ipField === undefined) {
        this.countOut(entry.ip);
        skipped++;
        continue;
      }
      this.store.appendSorted({
        id: entry.id,
        publicKey: entry.publicKey,
        ipField,
        port: entry.port,
        v6,
        failures,
        seconds: nowSeconds - entry.ageSeconds,
      });
      if (failures > 0) this.suspect++;
      loaded++;
    }
    return { loaded, skipped };
  }

  private clear(): void {
    this.store.clear();
    this.staging.clear();
    this.limits.clear();
    this.v6.clear();
    this.moves.clear();
    this.leases.clear();
    this.suspect = 0;
  }

  /** Merges staged verified entries into the sorted store (one pass over it). */
  private flush(): void {
    if (this.staging.verified === 0 && this.store.removed === 0) return;
    this.store.merge(this.staging.slab, this.staging.verifiedInOrder());
    this.staging.dropVerified();
    this.merges++;
  }

  private setVerified(found: Located): void {
    const { slab, slot } = found;
    if (found.staged && this.staging.stateOf(slot) === STAGED_PENDING) {
      this.staging.setVerified(slot);
    } else if (wordFailures(slab.word(slot)) > 0) {
      this.suspect--;
    }
    slab.setStatus(slot, 0, this.seconds());
    // A full staging area of verified entries merges in one pass: O(n) per staging-size inserts.
    if (this.staging.verified >= this.staging.capacity >> 1) this.flush();
  }

  private removeEntry(found: Located): void {
    const { slab, slot } = found;
    const pending = found.staged && this.staging.stateOf(slot) === STAGED_PENDING;
    if (!pending && wordFailures(slab.word(slot)) > 0) this.suspect--;
    this.countOut(this.ipOf(slab, slot));
    if (wordIsV6(slab.word(slot))) this.v6.remove(slab.ipField(slot));
    this.moves.delete(idToHex(slab.id(slot)));
    if (found.staged) this.staging.remove(slot);
    else this.store.markRemoved(slot);
  }

  private setAddress(found: Located, ip: Uint8Array, port: number): void {
    const { slab, slot } = found;
    this.countOut(this.ipOf(slab, slot));
    if (wordIsV6(slab.word(slot))) this.v6.remove(slab.ipField(slot));
    const field = ip.length === 4 ? ipv4Field(ip) : this.v6.add(ip);
    // The side table holds capacity + staging slots, one per entry at most, so it cannot be full here.
    slab.setIpField(slot, field ?? 0);
    slab.setV6(slot, ip.length !== 4);
    slab.setPort(slot, port);
  }

  private proposeMove(id: NodeId, host: string, port: number): void {
    if (this.maxMoves === 0) return;
    const hex = idToHex(id);
    this.moves.delete(hex);
    this.moves.set(hex, { host, port });
    if (this.moves.size > this.maxMoves) this.moves.delete(this.moves.keys().next().value as string);
  }

  private locate(id: Uint8Array): Located | undefined {
    const slot = this.staging.find(id);
    if (slot !== -1) return { slab: this.staging.slab, slot, staged: true };
    const pos = this.store.find(id);
    return pos === -1 ? undefined : { slab: this.store.slab, slot: pos, staged: false };
  }

  private sameAddress(found: Located, ip: Uint8Array, port: number): boolean {
    if (found.slab.port(found.slot) !== port) return false;
    const held = this.ipOf(found.slab, found.slot);
    return held.length === ip.length && held.every((b, i) => b === ip[i]);
  }

  private ipOf(slab: RecordSlab, slot: number): Uint8Array {
    const field = slab.ipField(slot);
    if (wordIsV6(slab.word(slot))) return this.v6.get(field);
    return new Uint8Array([field >>> 24, (field >>> 16) & 0xff, (field >>> 8) & 0xff, field & 0xff]);
  }

  private contactAt(slab: RecordSlab, slot: number): Contact {
    const word = slab.word(slot);
    const field = slab.ipField(slot);
    if (wordIsV6(word)) {
      const addressBytes = this.v6.get(field);
      return {
        id: slab.id(slot),
        publicKey: slab.publicKey(slot),
        host: bytesToIp(addressBytes),
        port: slab.port(slot),
        addressBytes,
      };
    }
    const a = field >>> 24;
    const b = (field >>> 16) & 0xff;
    const c = (field >>> 8) & 0xff;
    const d = field & 0xff;
    return {
      id: slab.id(slot),
      publicKey: slab.publicKey(slot),
      host: `${a}.${b}.${c}.${d}`,
      port: slab.port(slot),
      // Handed out in NODES replies by the thousand per second: the wire bytes come with it, not re-parsed.
      addressBytes: Uint8Array.of(a, b, c, d),
    };
  }

  private countIn(ip: Uint8Array): AddressLimitRefusal | undefined {
    return this.isExempt(ip) ? undefined : this.limits.tryAdd(ip);
  }

  private countOut(ip: Uint8Array): void {
    if (!this.isExempt(ip)) this.limits.remove(ip);
  }

  private isExempt(ip: Uint8Array): boolean {
    return this.exempt.some((cidr) => cidrContains(cidr, ip));
  }

  private expireLeases(now: number): void {
    // Leases are set in time order with one duration, so the expired ones are at the front.
    for (const [hex, until] of this.leases) {
      if (until > now) break;
      this.leases.delete(hex);
    }
  }

  private refuse(reason: BufferRefusal): BufferRefusal {
    this.refusals[reason]++;
    return reason;
  }

  private seconds(): number {
    return Math.max(0, Math.floor((this.now() - this.epochMs) / 1000));
  }
}

function validAddress(contact: Contact): Uint8Array | undefined {
  if (typeof contact !== 'object' || contact === null) return undefined;
  const { port } = contact;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return tryIpToBytes(contact.host);
}

function ipv4Field(ip: Uint8Array): number {
  return ((ip[0] << 24) | (ip[1] << 16) | (ip[2] << 8) | ip[3]) >>> 0;
}

function idFromHexUnchecked(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function xorOrder(target: NodeId, a: RecordSlab, slotA: number, b: RecordSlab, slotB: number): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const d = (a.idByte(slotA, i) ^ target[i]) - (b.idByte(slotB, i) ^ target[i]);
    if (d !== 0) return d;
  }
  return 0;
}

function intIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new KademliaError(`${name} must be an integer ${min}-${max}`, 'CONFIG_INVALID', { [name]: value });
  }
  return value;
}
