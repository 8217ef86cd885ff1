const V6_BYTES = 16;
const INITIAL_SLOTS = 256;

/**
 * IPv6 addresses of buffer entries, out of line: a record keeps 4 address bytes (an IPv4 address, or an index
 * here), so IPv4 entries do not pay 12 bytes for the rare IPv6 one. Grows by doubling up to `maxSlots`;
 * freed slots are reused. An IPv6 entry costs its record plus 16 bytes here plus 4 of free-list.
 */
export class Ipv6Table {
  private bytes = new Uint8Array(0);
  private free = new Uint32Array(0);
  private freeCount = 0;
  private used = 0;
  private allocated = 0;

  constructor(private readonly maxSlots: number) {}

  get size(): number {
    return this.used;
  }

  /** Stores an address; undefined when the table is at maxSlots. */
  add(address: Uint8Array): number | undefined {
    if (this.freeCount === 0 && !this.grow()) return undefined;
    const slot = this.free[--this.freeCount];
    this.bytes.set(address, slot * V6_BYTES);
    this.used++;
    return slot;
  }

  get(slot: number): Uint8Array {
    return this.bytes.slice(slot * V6_BYTES, slot * V6_BYTES + V6_BYTES);
  }

  remove(slot: number): void {
    if (slot >= this.allocated) return;
    this.free[this.freeCount++] = slot;
    this.used--;
  }

  clear(): void {
    this.bytes = new Uint8Array(0);
    this.free = new Uint32Array(0);
    this.freeCount = 0;
    this.used = 0;
    this.allocated = 0;
  }

  byteLength(): number {
    return this.bytes.byteLength + this.free.byteLength;
  }

  private grow(): boolean {
    if (this.allocated >= this.maxSlots) return false;
    const next = Math.min(this.maxSlots, Math.max(INITIAL_SLOTS, this.allocated * 2));
    const bytes = new Uint8Array(next * V6_BYTES);
    bytes.set(this.bytes);
    const free = new Uint32Array(next);
    // Slots are handed out lowest first; the new ones go below the (empty) existing free list.
    for (let s = next - 1, i = 0; s >= this.allocated; s--, i++) free[i] = s;
    this.freeCount = next - this.allocated;
    this.bytes = bytes;
    this.free = free;
    this.allocated = next;
    return true;
  }
}
