import { lowerBound, type OrderedRecords } from './closest-in-order';
import { RecordSlab, REMOVED, wordFailures, wordSeconds, type RecordFields } from './record-slab';

/**
 * The bulk of the buffer: verified records kept physically in ID order in one slab, so that position is the
 * index (no per-entry pointer) and closest() is a binary descent. A removal only marks the record (a tombstone
 * keeps the order intact); the next batch merge squeezes tombstones out and splices a sorted batch in with one
 * backward pass of memmoves, so inserts cost O(n / batch) amortized rather than O(n) each.
 */
export class SortedStore {
  readonly slab: RecordSlab;
  /** Records in the slab, tombstones included. */
  length = 0;
  /** Tombstones among them. */
  removed = 0;
  /** Next position the re-verification sweep looks at. */
  private cursor = 0;

  constructor(readonly capacity: number) {
    this.slab = new RecordSlab(capacity);
  }

  get live(): number {
    return this.length - this.removed;
  }

  get records(): OrderedRecords {
    return { slab: this.slab, length: this.length };
  }

  /** Position of a live record with this ID, or -1. */
  find(id: Uint8Array): number {
    const pos = lowerBound(this.records, id);
    if (pos >= this.length || this.slab.compareId(pos, id) !== 0) return -1;
    return wordFailures(this.slab.word(pos)) === REMOVED ? -1 : pos;
  }

  isRemoved(pos: number): boolean {
    return wordFailures(this.slab.word(pos)) === REMOVED;
  }

  markRemoved(pos: number): void {
    if (this.isRemoved(pos)) return;
    this.slab.setStatus(pos, REMOVED, wordSeconds(this.slab.word(pos)));
    this.removed++;
  }

  /** Appends a record whose ID sorts after every record here (restore path); false when it does not. */
  appendSorted(fields: RecordFields): boolean {
    if (this.length >= this.capacity) return false;
    if (this.length > 0 && this.slab.compareId(this.length - 1, fields.id) >= 0) return false;
    this.slab.write(this.length++, fields);
    return true;
  }

  /**
   * Splices in records of another slab, given in ascending ID order and absent here. Tombstones go first (one
   * forward pass of run moves), then a backward merge moves each run of existing records once.
   */
  merge(source: RecordSlab, slots: readonly number[]): void {
    if (this.removed > 0) this.compact();
    if (slots.length === 0) return;
    if (this.length + slots.length > this.capacity) throw new RangeError('sorted store over capacity');
    let i = this.length - 1;
    let write = this.length + slots.length - 1;
    let cursorShift = 0;
    for (let j = slots.length - 1; j >= 0; j--) {
      // First position in [0, i] whose ID sorts after the incoming one.
      let lo = 0;
      let hi = i + 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.slab.compareRecords(mid, source, slots[j]) < 0) lo = mid + 1;
        else hi = mid;
      }
      const block = i + 1 - lo;
      this.slab.move(lo, write - block + 1, block);
      write -= block;
      i = lo - 1;
      this.slab.copyFrom(source, slots[j], write--);
      if (lo <= this.cursor) cursorShift++;
    }
    this.length += slots.length;
    this.cursor += cursorShift;
  }

  /**
   * Round-robin re-verification: from the cursor on, positions due for a ping (a failure to retry, or verified
   * at least `dueAfterSeconds` ago), looking at no more than `budget` records. Visiting in ID order at a steady
   * pace re-pings each entry about once per sweep, which in steady state is oldest first.
   */
  sweep(input: {
    nowSeconds: number;
    dueAfterSeconds: number;
    max: number;
    budget: number;
    skip: (pos: number) => boolean;
  }): { due: number[]; wrapped: boolean } {
    const due: number[] = [];
    let wrapped = false;
    const budget = Math.min(input.budget, this.length);
    for (let scanned = 0; scanned < budget && due.length < input.max; scanned++) {
      if (this.cursor >= this.length) {
        this.cursor = 0;
        wrapped = true;
      }
      const pos = this.cursor++;
      const word = this.slab.word(pos);
      const failures = wordFailures(word);
      if (failures === REMOVED) continue;
      const isDue = failures > 0 || input.nowSeconds - wordSeconds(word) >= input.dueAfterSeconds;
      if (isDue && !input.skip(pos)) due.push(pos);
    }
    return { due, wrapped };
  }

  clear(): void {
    this.length = 0;
    this.removed = 0;
    this.cursor = 0;
  }

  private compact(): void {
    let write = 0;
    let read = 0;
    let cursor = this.cursor;
    while (read < this.length) {
      if (this.isRemoved(read)) {
        if (read < this.cursor) cursor--;
        read++;
        continue;
      }
      let end = read;
      while (end < this.length && !this.isRemoved(end)) end++;
      this.slab.move(read, write, end - read);
      write += end - read;
      read = end;
    }
    this.length = write;
    this.removed = 0;
    this.cursor = Math.max(0, cursor);
  }
}
