import { randomBytes } from 'node:crypto';
import { DEFAULTS } from '../config/defaults';

/** A 160-bit identifier (node ID or record key) as raw bytes, most significant byte first. */
export type NodeId = Uint8Array;

export const ID_BYTES = DEFAULTS.idBits / 8;

export function isNodeId(value: unknown): value is NodeId {
  return value instanceof Uint8Array && value.length === ID_BYTES;
}

export function idEquals(a: NodeId, b: NodeId): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function idToHex(id: NodeId): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

export function idFromHex(hex: string): NodeId {
  if (!/^[0-9a-fA-F]{40}$/.test(hex)) throw new RangeError(`not a 160-bit hex id: ${hex.slice(0, 48)}`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function randomId(): NodeId {
  return new Uint8Array(randomBytes(ID_BYTES));
}

/** a XOR b, a new array. Prefer compareDistance() on hot paths: it allocates nothing. */
export function xorDistance(a: NodeId, b: NodeId): Uint8Array {
  const out = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** Orders a and b by XOR distance to target: negative when a is closer, 0 when equal. */
export function compareDistance(target: NodeId, a: NodeId, b: NodeId): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const da = a[i] ^ target[i];
    const db = b[i] ^ target[i];
    if (da !== db) return da - db;
  }
  return 0;
}

/** Number of leading bits a and b share (160 when equal). */
export function sharedPrefixLength(a: NodeId, b: NodeId): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_BYTES * 8;
}

/** Bit i (0 = most significant) of id. */
export function bitAt(id: NodeId, i: number): number {
  return (id[i >> 3] >> (7 - (i & 7))) & 1;
}

/**
 * A random ID whose first `prefixBits` bits equal those of `prefix`; the rest is random.
 * With prefix = own ID and prefixBits = d, then flipping bit d, it lands in the bucket at depth d.
 */
export function randomIdWithPrefix(prefix: NodeId, prefixBits: number): NodeId {
  if (prefixBits < 0 || prefixBits > ID_BYTES * 8)
    throw new RangeError(`prefixBits out of range: ${prefixBits}`);
  const out = randomId();
  const fullBytes = prefixBits >> 3;
  for (let i = 0; i < fullBytes; i++) out[i] = prefix[i];
  const rem = prefixBits & 7;
  if (rem > 0) {
    const mask = (0xff << (8 - rem)) & 0xff;
    out[fullBytes] = (prefix[fullBytes] & mask) | (out[fullBytes] & ~mask & 0xff);
  }
  return out;
}

/**
 * A random ID at exactly `cpl` shared leading bits with `own` (so in the bucket that distance falls in):
 * same first cpl bits, bit cpl flipped, rest random.
 */
export function randomIdAtPrefixLength(own: NodeId, cpl: number): NodeId {
  if (cpl < 0 || cpl >= ID_BYTES * 8) throw new RangeError(`cpl out of range: ${cpl}`);
  const out = randomIdWithPrefix(own, cpl + 1);
  out[cpl >> 3] ^= 0x80 >> (cpl & 7);
  return out;
}
