import { lowerBound, type OrderedRecords } from './closest-in-order';
import { RecordSlab, wordSeconds, type RecordFields } from './record-slab';

/** Free slot. */
export const STAGED_FREE = 0;
/** Never answered a ping: not handed out. */
export const STAGED_PENDING = 1;
/** Answered; waits for the next batch merge into the sorted store. */
export const STAGED_VERIFIED = 2;
export type StagedState = typeof STAGED_FREE | typeof STAGED_PENDING | typeof STAGED_VERIFIED;

/**
 * The small front of the buffer: contacts waiting for their first ping, and freshly verified ones waiting to be
 * merged into the big sorted store in one batch (one memmove pass per batch instead of one per insert). Slots are
 * stable (free list); an index of slots kept in ID order serves lookups and closest().
 */
export class StagingArea {
  readonly slab: RecordSlab;
  private readonly state: Uint8Array;
  private readonly order: Uint32Array;
  private readonly free: Uint32Array;
  private orderLength = 0;
  private freeCount: number;
  pending = 0;
  verified = 0;

  constructor(readonly capacity: number) {
    this.slab = new RecordSlab(capacity);
    this.state = new Uint8Array(capacity);
    this.order = new Uint32Array(capacity);
    this.free = new Uint32Array(capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.freeCount = capacity;
  }

  get size(): number {
    return this.orderLength;
  }

  get records(): OrderedRecords {
    return { slab: this.slab, order: this.order, length: this.orderLength };
  }

  stateOf(slot: number): StagedState {
    return this.state[slot] as StagedState;
  }

  find(id: Uint8Array): number {
    const pos = lowerBound(this.records, id);
    if (pos >= this.orderLength) return -1;
    const slot = this.order[pos];
    return this.slab.compareId(slot, id) === 0 ? slot : -1;
  }

  /** Stores a record (its ID must not be here yet); undefined when every slot is taken. */
  add(fields: RecordFields, state: typeof STAGED_PENDING | typeof STAGED_VERIFIED): number | undefined {
    if (this.freeCount === 0) return undefined;
    const slot = this.free[--this.freeCount];
    this.slab.write(slot, fields);
    const pos = lowerBound(this.records, fields.id);
    this.order.copyWithin(pos + 1, pos, this.orderLength);
    this.order[pos] = slot;
    this.orderLength++;
    this.state[slot] = state;
    if (state === STAGED_PENDING) this.pending++;
    else this.verified++;
    return slot;
  }

  setVerified(slot: number): void {
    if (this.state[slot] !== STAGED_PENDING) return;
    this.state[slot] = STAGED_VERIFIED;
    this.pending--;
    this.verified++;
  }

  remove(slot: number): void {
    const state = this.state[slot];
    if (state === STAGED_FREE) return;
    const pos = lowerBound(this.records, this.slab.id(slot));
    this.order.copyWithin(pos, pos + 1, this.orderLength);
    this.orderLength--;
    this.release(slot, state);
  }

  /** Verified slots in ID order (what the next merge takes). */
  verifiedInOrder(): number[] {
    const out: number[] = [];
    for (let pos = 0; pos < this.orderLength; pos++) {
      const slot = this.order[pos];
      if (this.state[slot] === STAGED_VERIFIED) out.push(slot);
    }
    return out;
  }

  /** Drops every verified slot (after a merge copied them out); one pass over the index. */
  dropVerified(): void {
    let kept = 0;
    for (let pos = 0; pos < this.orderLength; pos++) {
      const slot = this.order[pos];
      if (this.state[slot] === STAGED_VERIFIED) this.release(slot, STAGED_VERIFIED);
      else this.order[kept++] = slot;
    }
    this.orderLength = kept;
  }

  /** Pending slots whose next attempt is due, earliest first, at most max, skipping those `skip` names. */
  duePending(input: { nowSeconds: number; max: number; skip: (slot: number) => boolean }): number[] {
    const due: number[] = [];
    if (this.pending === 0 || input.max <= 0) return due;
    for (let pos = 0; pos < this.orderLength; pos++) {
      const slot = this.order[pos];
      if (this.state[slot] !== STAGED_PENDING) continue;
      if (wordSeconds(this.slab.word(slot)) > input.nowSeconds || input.skip(slot)) continue;
      due.push(slot);
    }
    if (due.length > input.max) {
      due.sort((a, b) => wordSeconds(this.slab.word(a)) - wordSeconds(this.slab.word(b)));
      due.length = input.max;
    }
    return due;
  }

  /** Whether a verified slot was last verified at or before `seconds` (then it is due and must be merged). */
  hasVerifiedAtOrBefore(seconds: number): boolean {
    if (this.verified === 0) return false;
    for (let pos = 0; pos < this.orderLength; pos++) {
      const slot = this.order[pos];
      if (this.state[slot] === STAGED_VERIFIED && wordSeconds(this.slab.word(slot)) <= seconds) return true;
    }
    return false;
  }

  clear(): void {
    this.state.fill(0);
    for (let i = 0; i < this.capacity; i++) this.free[i] = this.capacity - 1 - i;
    this.freeCount = this.capacity;
    this.orderLength = 0;
    this.pending = 0;
    this.verified = 0;
  }

  byteLength(): number {
    return this.slab.bytes.byteLength + this.state.byteLength + this.order.byteLength + this.free.byteLength;
  }

  private release(slot: number, state: number): void {
    this.state[slot] = STAGED_FREE;
    this.free[this.freeCount++] = slot;
    if (state === STAGED_PENDING) this.pending--;
    else this.verified--;
  }
}
