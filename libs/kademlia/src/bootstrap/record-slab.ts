import { ID_BYTES } from '../id/node-id';

/**
 * Fixed-size contact records in one preallocated byte array: the bootstrap buffer's compact layout. One record:
 *
 *   offset  bytes  field
 *        0     20  NodeId (SHA-1 of the key; kept so queries never re-hash)
 *       20     32  X25519 public key (what NODES replies carry)
 *       52      4  IPv4 address, or for IPv6 the index of its 16 bytes in the side table
 *       56      2  port, big-endian
 *       58      4  status word, big-endian: bit 31 = IPv6, bits 28-30 = failures (7 = removed),
 *                  bits 0-27 = seconds since the buffer's epoch (last verified; for pending: next attempt)
 *
 * 62 bytes, no padding and no per-entry object: a million entries are one 62 MB array the GC never walks.
 */
export const RECORD_BYTES = 62;
export const PUBLIC_KEY_BYTES = 32;
const KEY_OFFSET = 20;
const IP_OFFSET = 52;
const PORT_OFFSET = 56;
const WORD_OFFSET = 58;

/** failures value that marks a removed record still holding its place in a sorted run (a tombstone). */
export const REMOVED = 7;
/** Most failures a record can count before the REMOVED marker. */
export const MAX_FAILURE_COUNT = REMOVED - 1;
/** 28 bits of seconds: 8.5 years of uptime past the epoch. */
export const MAX_SECONDS = 0x0fff_ffff;

export interface RecordFields {
  readonly id: Uint8Array;
  readonly publicKey: Uint8Array;
  /** IPv4 as a big-endian u32, or the IPv6 side-table index. */
  readonly ipField: number;
  readonly port: number;
  readonly v6: boolean;
  readonly failures: number;
  readonly seconds: number;
}

export class RecordSlab {
  readonly bytes: Uint8Array;

  constructor(readonly capacity: number) {
    this.bytes = new Uint8Array(capacity * RECORD_BYTES);
  }

  write(slot: number, fields: RecordFields): void {
    const at = slot * RECORD_BYTES;
    this.bytes.set(fields.id, at);
    this.bytes.set(fields.publicKey, at + KEY_OFFSET);
    this.setIpField(slot, fields.ipField);
    this.bytes[at + PORT_OFFSET] = fields.port >>> 8;
    this.bytes[at + PORT_OFFSET + 1] = fields.port & 0xff;
    this.setWord(slot, packWord(fields.v6, fields.failures, fields.seconds));
  }

  /** Copies one record from another slab (or this one) into slot. */
  copyFrom(source: RecordSlab, sourceSlot: number, slot: number): void {
    const from = sourceSlot * RECORD_BYTES;
    this.bytes.set(source.bytes.subarray(from, from + RECORD_BYTES), slot * RECORD_BYTES);
  }

  /** Moves count records starting at from to start at to (overlap-safe, one memmove). */
  move(from: number, to: number, count: number): void {
    if (count <= 0 || from === to) return;
    this.bytes.copyWithin(to * RECORD_BYTES, from * RECORD_BYTES, (from + count) * RECORD_BYTES);
  }

  /** A copy of the ID (records move, so a view would change under the caller). */
  id(slot: number): Uint8Array {
    const at = slot * RECORD_BYTES;
    return this.bytes.slice(at, at + ID_BYTES);
  }

  publicKey(slot: number): Uint8Array {
    const at = slot * RECORD_BYTES + KEY_OFFSET;
    return this.bytes.slice(at, at + PUBLIC_KEY_BYTES);
  }

  idByte(slot: number, index: number): number {
    return this.bytes[slot * RECORD_BYTES + index];
  }

  /** Orders this slab's record against an ID: negative when the record's ID sorts first. */
  compareId(slot: number, id: Uint8Array): number {
    const at = slot * RECORD_BYTES;
    for (let i = 0; i < ID_BYTES; i++) {
      const d = this.bytes[at + i] - id[i];
      if (d !== 0) return d;
    }
    return 0;
  }

  /** Orders this slab's record against another slab's record by ID. */
  compareRecords(slot: number, other: RecordSlab, otherSlot: number): number {
    const a = slot * RECORD_BYTES;
    const b = otherSlot * RECORD_BYTES;
    for (let i = 0; i < ID_BYTES; i++) {
      const d = this.bytes[a + i] - other.bytes[b + i];
      if (d !== 0) return d;
    }
    return 0;
  }

  ipField(slot: number): number {
    const at = slot * RECORD_BYTES + IP_OFFSET;
    const b = this.bytes;
    return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  }

  setIpField(slot: number, value: number): void {
    const at = slot * RECORD_BYTES + IP_OFFSET;
    this.bytes[at] = value >>> 24;
    this.bytes[at + 1] = (value >>> 16) & 0xff;
    this.bytes[at + 2] = (value >>> 8) & 0xff;
    this.bytes[at + 3] = value & 0xff;
  }

  port(slot: number): number {
    const at = slot * RECORD_BYTES + PORT_OFFSET;
    return (this.bytes[at] << 8) | this.bytes[at + 1];
  }

  setPort(slot: number, port: number): void {
    const at = slot * RECORD_BYTES + PORT_OFFSET;
    this.bytes[at] = port >>> 8;
    this.bytes[at + 1] = port & 0xff;
  }

  word(slot: number): number {
    const at = slot * RECORD_BYTES + WORD_OFFSET;
    const b = this.bytes;
    return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  }

  setWord(slot: number, word: number): void {
    const at = slot * RECORD_BYTES + WORD_OFFSET;
    this.bytes[at] = word >>> 24;
    this.bytes[at + 1] = (word >>> 16) & 0xff;
    this.bytes[at + 2] = (word >>> 8) & 0xff;
    this.bytes[at + 3] = word & 0xff;
  }

  failures(slot: number): number {
    return wordFailures(this.word(slot));
  }

  setStatus(slot: number, failures: number, seconds: number): void {
    this.setWord(slot, packWord(wordIsV6(this.word(slot)), failures, seconds));
  }

  setV6(slot: number, v6: boolean): void {
    const word = this.word(slot);
    this.setWord(slot, packWord(v6, wordFailures(word), wordSeconds(word)));
  }
}

export function packWord(v6: boolean, failures: number, seconds: number): number {
  const s = Math.min(MAX_SECONDS, Math.max(0, Math.floor(seconds)));
  return ((v6 ? 0x8000_0000 : 0) | ((failures & 7) << 28) | s) >>> 0;
}

export function wordIsV6(word: number): boolean {
  return word >>> 31 === 1;
}

export function wordFailures(word: number): number {
  return (word >>> 28) & 7;
}

export function wordSeconds(word: number): number {
  return word & MAX_SECONDS;
}
