/**
 * A strict reader for the small CBOR subset the protocol uses: unsigned integers (major type 0), byte
 * strings (2), text strings (3) and definite-length arrays (4), each in its shortest encoding (RFC 8949
 * §4.2.1 "preferred serialization"). Everything else — negative integers, maps, tags, floats, simple values,
 * indefinite lengths — is refused, so each message has exactly one valid byte form.
 *
 * Why not decode with cbor-x and inspect the result: a generic decoder cannot tell 5 from 5.0, or a
 * definite array from an indefinite one, and it would build values we then throw away. This reader walks
 * the bytes once, by the schema the codec drives, without intermediate objects. cbor-x stays the reference:
 * the specs check that whatever this reader accepts, cbor-x reads and writes back identically.
 */

export type CborFailureReason =
  /** The input ends inside an item. */
  | 'truncated'
  /** Reserved additional-information values (28-30): not well-formed CBOR. */
  | 'cbor_invalid'
  /** Well-formed CBOR outside the subset: negative ints, maps, tags, floats, simple values, indefinite lengths. */
  | 'cbor_unsupported'
  /** An integer or length not in its shortest form. */
  | 'non_canonical';

/**
 * Thrown inside the reader and caught by the codec; never escapes decodeMessage. Not an Error subclass on
 * purpose: capturing a stack trace per rejected packet would make junk traffic expensive.
 */
export class CborFailure {
  constructor(readonly reason: CborFailureReason) {}
}

/** The major types the subset allows (RFC 8949 §3.1). */
export const MajorType = { UINT: 0, BYTES: 2, TEXT: 3, ARRAY: 4 } as const;
export type MajorType = (typeof MajorType)[keyof typeof MajorType];

/** A data item's head: its major type and argument (the integer value, or a length). */
export interface CborHead {
  major: MajorType;
  value: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class CborReader {
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  get offset(): number {
    return this.pos;
  }

  get atEnd(): boolean {
    return this.pos === this.bytes.length;
  }

  /**
   * Reads one head and leaves the cursor after it. Integers above 2^53 are refused as unsupported:
   * no protocol field comes near that, and JS numbers could not hold them exactly.
   */
  readHead(): CborHead {
    const bytes = this.bytes;
    if (this.pos >= bytes.length) throw new CborFailure('truncated');
    const initial = bytes[this.pos++];
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === 1 || major >= 5)
      throw new CborFailure(info >= 28 && info <= 30 ? 'cbor_invalid' : 'cbor_unsupported');
    if (info < 24) return { major: major as MajorType, value: info };
    if (info === 31) throw new CborFailure(major === 0 ? 'cbor_invalid' : 'cbor_unsupported');
    if (info > 27) throw new CborFailure('cbor_invalid');
    const size = 1 << (info - 24);
    if (this.pos + size > bytes.length) throw new CborFailure('truncated');
    const p = this.pos;
    let value: number;
    let minimum: number;
    if (size === 1) {
      value = bytes[p];
      minimum = 24;
    } else if (size === 2) {
      value = (bytes[p] << 8) | bytes[p + 1];
      minimum = 0x100;
    } else if (size === 4) {
      value = bytes[p] * 0x1000000 + ((bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3]);
      minimum = 0x10000;
    } else {
      const high = bytes[p] * 0x1000000 + ((bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3]);
      const low = bytes[p + 4] * 0x1000000 + ((bytes[p + 5] << 16) | (bytes[p + 6] << 8) | bytes[p + 7]);
      if (high > 0x1fffff) throw new CborFailure('cbor_unsupported');
      value = high * 0x100000000 + low;
      minimum = 0x100000000;
    }
    if (value < minimum) throw new CborFailure('non_canonical');
    this.pos += size;
    return { major: major as MajorType, value };
  }

  /** A copy of the next `length` bytes (callers keep decoded fields; views would pin the whole packet). */
  takeBytes(length: number): Uint8Array {
    if (length > this.bytes.length - this.pos) throw new CborFailure('truncated');
    // Not bytes.slice(): on a Buffer (what UDP sockets deliver) that returns a view, not a copy.
    const out = new Uint8Array(length);
    out.set(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return out;
  }

  /** A view of the next `length` bytes, for fields consumed at once (IP addresses). */
  viewBytes(length: number): Uint8Array {
    if (length > this.bytes.length - this.pos) throw new CborFailure('truncated');
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  /** The next `length` bytes as UTF-8 text; invalid UTF-8 yields null (a field error, not a CBOR one). */
  takeText(length: number): string | null {
    if (length > this.bytes.length - this.pos) throw new CborFailure('truncated');
    const view = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    try {
      return utf8.decode(view);
    } catch {
      return null;
    }
  }
}
