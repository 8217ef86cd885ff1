import { KademliaError } from '../errors';
import { MajorType } from './cbor-reader';

/**
 * Writes the CBOR subset of cbor-reader.ts (uint, byte and text strings, definite arrays) in preferred
 * serialization. It exists for speed: cbor-x looks up an extension per Uint8Array, which made a 20-contact
 * NODES reply, the most common packet a bootstrap node sends, cost about 8 µs; this writer needs well under
 * one. codec.spec.ts checks that it produces exactly the bytes cbor-x produces for every message.
 *
 * One writer owns a fixed buffer, sized to the largest message allowed; finish() returns a copy of what was
 * written and resets it. Writing past the buffer is a WIRE_TOO_LARGE error.
 */
export class CborWriter {
  private pos = 0;
  private readonly buf: Uint8Array;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  uint(value: number): void {
    this.head(MajorType.UINT, value);
  }

  arrayHead(length: number): void {
    this.head(MajorType.ARRAY, length);
  }

  bytes(value: Uint8Array): void {
    this.head(MajorType.BYTES, value.length);
    this.room(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** `utf8Length` is Buffer.byteLength(value): callers check it against a bound before writing anyway. */
  text(value: string, utf8Length: number): void {
    this.head(MajorType.TEXT, utf8Length);
    this.room(utf8Length);
    const { written } = utf8Encoder.encodeInto(value, this.buf.subarray(this.pos, this.pos + utf8Length));
    this.pos += written;
  }

  /** The bytes written so far, as a new array; the writer is empty again afterwards. */
  finish(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }

  /** Drops a half-written message after an error, so the next one starts clean. */
  reset(): void {
    this.pos = 0;
  }

  private head(major: number, value: number): void {
    const top = major << 5;
    if (value < 24) {
      this.room(1);
      this.buf[this.pos++] = top | value;
    } else if (value < 0x100) {
      this.room(2);
      this.buf[this.pos++] = top | 24;
      this.buf[this.pos++] = value;
    } else if (value < 0x10000) {
      this.room(3);
      this.buf[this.pos++] = top | 25;
      this.buf[this.pos++] = value >> 8;
      this.buf[this.pos++] = value & 0xff;
    } else if (value > 0xffff_ffff) {
      // Sequence numbers of signed records go up to 2^53 - 1; the codec never passes anything larger.
      this.room(9);
      this.buf[this.pos++] = top | 27;
      const high = Math.floor(value / 0x1_0000_0000);
      const low = value >>> 0;
      for (const word of [high, low]) {
        this.buf[this.pos++] = word >>> 24;
        this.buf[this.pos++] = (word >>> 16) & 0xff;
        this.buf[this.pos++] = (word >>> 8) & 0xff;
        this.buf[this.pos++] = word & 0xff;
      }
    } else {
      this.room(5);
      this.buf[this.pos++] = top | 26;
      this.buf[this.pos++] = value >>> 24;
      this.buf[this.pos++] = (value >>> 16) & 0xff;
      this.buf[this.pos++] = (value >>> 8) & 0xff;
      this.buf[this.pos++] = value & 0xff;
    }
  }

  private room(size: number): void {
    if (this.pos + size > this.buf.length) {
      throw new KademliaError(`encoded message exceeds ${this.buf.length} bytes`, 'WIRE_TOO_LARGE');
    }
  }
}

const utf8Encoder = new TextEncoder();
