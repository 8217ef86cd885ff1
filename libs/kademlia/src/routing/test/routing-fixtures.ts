import fc from 'fast-check';
import { bitAt, ID_BYTES, idToHex, type NodeId } from '../../id/node-id';
import type { Contact } from '../contact';

/**
 * Test-only builders for routing specs: IDs with chosen prefixes, contacts with unique addresses,
 * a fake clock, and fast-check arbitraries for adversarial ID sets.
 */

/** An ID whose leading bits are `bits` ('0110…') and whose other bits are all `fill` (0 or 1). */
export function idFromBits(bits: string, fill: 0 | 1 = 0): NodeId {
  const id = new Uint8Array(ID_BYTES).fill(fill === 1 ? 0xff : 0);
  for (let i = 0; i < bits.length; i++) setBit(id, i, bits[i] === '1' ? 1 : 0);
  return id;
}

/**
 * An ID sharing exactly `cpl` leading bits with `base` (bit cpl flipped); the bits after it come
 * from `tail` (cycled), so callers control them.
 */
export function idAtPrefixLength(base: NodeId, cpl: number, tail: Uint8Array = new Uint8Array([0])): NodeId {
  const id = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES * 8; i++) {
    const bit =
      i < cpl
        ? bitAt(base, i)
        : i === cpl
          ? 1 - bitAt(base, i)
          : bitAt(tail, (i - cpl - 1) % (tail.length * 8));
    setBit(id, i, bit);
  }
  return id;
}

export function bitsOf(id: NodeId, count: number): string {
  let bits = '';
  for (let i = 0; i < count; i++) bits += bitAt(id, i);
  return bits;
}

/** Hands out one stable, unique address per ID, so the same-address rule only fires when a test wants it. */
export class ContactFactory {
  private readonly addresses = new Map<string, { host: string; port: number }>();
  private next = 1;

  contact(id: NodeId, address?: { host: string; port: number }): Contact {
    const key = idToHex(id);
    let endpoint = address ?? this.addresses.get(key);
    if (!endpoint) {
      const n = this.next++;
      endpoint = { host: `10.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}`, port: 4000 };
      this.addresses.set(key, endpoint);
    }
    return { id, publicKey: fakePublicKey(id), host: endpoint.host, port: endpoint.port };
  }
}

/** The table never checks keys (the session layer does), so tests may use any 32 bytes. */
export function fakePublicKey(id: NodeId): Uint8Array {
  const key = new Uint8Array(32);
  key.set(id);
  return key;
}

export class FakeClock {
  constructor(public time = 1_000_000) {}
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

export function hexOf(entries: Iterable<{ id: NodeId }>): string[] {
  return [...entries].map((e) => idToHex(e.id));
}

const arbId: fc.Arbitrary<NodeId> = fc.uint8Array({ minLength: ID_BYTES, maxLength: ID_BYTES });

/**
 * IDs a table meets in the worst case: uniform ones, ones sharing long prefixes with the local ID
 * (deep own-side buckets), and tight clusters around a few centres (an attacker's Sybils, or
 * neighbours that differ only in their last bits).
 */
export function arbAdversarialIds(
  localId: NodeId,
  options: { minLength?: number; maxLength: number },
): fc.Arbitrary<NodeId[]> {
  const nearLocal = fc
    .tuple(fc.integer({ min: 0, max: ID_BYTES * 8 - 1 }), fc.uint8Array({ minLength: 1, maxLength: 4 }))
    .map(([cpl, tail]) => idAtPrefixLength(localId, cpl, tail));
  const clustered = fc
    .tuple(
      fc.constantFrom(...clusterCentres()),
      fc.integer({ min: 100, max: 159 }),
      fc.uint8Array({ minLength: 1, maxLength: 4 }),
    )
    .map(([centre, cpl, tail]) => idAtPrefixLength(centre, cpl, tail));
  return fc.array(fc.oneof(arbId, nearLocal, clustered), {
    minLength: options.minLength ?? 0,
    maxLength: options.maxLength,
    size: 'max',
  });
}

export function arbLocalId(): fc.Arbitrary<NodeId> {
  return fc.oneof(
    arbId,
    fc.constant(new Uint8Array(ID_BYTES)),
    fc.constant(new Uint8Array(ID_BYTES).fill(0xff)),
  );
}

export function arbTarget(localId: NodeId): fc.Arbitrary<NodeId> {
  return fc.oneof(
    arbId,
    fc.constant(localId),
    fc.integer({ min: 0, max: 159 }).map((cpl) => idAtPrefixLength(localId, cpl)),
    fc.constantFrom(...clusterCentres()),
  );
}

function clusterCentres(): NodeId[] {
  return [idFromBits('1011', 0), idFromBits('0100', 1), idFromBits('110011001100', 0)];
}

function setBit(bytes: Uint8Array, i: number, bit: number): void {
  const mask = 0x80 >> (i & 7);
  bytes[i >> 3] = bit ? bytes[i >> 3] | mask : bytes[i >> 3] & ~mask;
}
