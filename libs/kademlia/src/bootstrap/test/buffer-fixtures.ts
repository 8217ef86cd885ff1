import { nodeIdFromPublicKey } from '../../id/key-id';
import { compareDistance, type NodeId } from '../../id/node-id';
import type { Contact } from '../../routing/contact';
import { createRandom } from '../../sim/random';

/** A settable millisecond clock for the sans-IO buffer. */
export class FakeTime {
  ms = 1_000_000;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Contacts with real IDs (SHA-1 of the key) and a distinct public IPv4 address and /24 per index. */
export class ContactMaker {
  private readonly random: () => number;
  constructor(seed = 1) {
    this.random = createRandom(seed);
  }

  bytes(length: number): Uint8Array {
    return Uint8Array.from({ length }, () => Math.floor(this.random() * 256));
  }

  contact(index: number, overrides: Partial<Contact> = {}): Contact {
    const publicKey = this.bytes(32);
    return { id: nodeIdFromPublicKey(publicKey), publicKey, host: hostFor(index), port: 6881, ...overrides };
  }

  /** A contact with a chosen ID (the buffer trusts the caller's derivation; the oracle tests need clusters). */
  withId(id: NodeId, index: number): Contact {
    return { id, publicKey: this.bytes(32), host: hostFor(index), port: 6881 };
  }
}

/** 1.0.0.1 .. spreading indexes over distinct /24s: first octet 11-99, then index bits. */
export function hostFor(index: number): string {
  return `${11 + (index % 89)}.${Math.floor(index / 89) % 256}.${Math.floor(index / (89 * 256)) % 256}.1`;
}

/** The brute-force answer: sort everything by XOR distance. */
export function oracleClosest(ids: NodeId[], target: NodeId, count: number): NodeId[] {
  return [...ids].sort((a, b) => compareDistance(target, a, b)).slice(0, count);
}
