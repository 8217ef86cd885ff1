import fc from 'fast-check';
import {
  bitAt,
  compareDistance,
  ID_BYTES,
  idEquals,
  idFromHex,
  idToHex,
  isNodeId,
  randomId,
  randomIdAtPrefixLength,
  randomIdWithPrefix,
  sharedPrefixLength,
  xorDistance,
  type NodeId,
} from './node-id';

const ID_BITS = ID_BYTES * 8;
const arbId: fc.Arbitrary<NodeId> = fc.uint8Array({ minLength: ID_BYTES, maxLength: ID_BYTES });

/** IDs that share long prefixes with each other, where off-by-one bugs in bit math live. */
const arbIdNear = (base: NodeId): fc.Arbitrary<NodeId> =>
  fc.tuple(fc.integer({ min: 0, max: ID_BITS }), arbId).map(([keep, noise]) => {
    const id = new Uint8Array(noise);
    for (let i = 0; i < keep; i++) setBit(id, i, bitAt(base, i));
    return id;
  });

const arbIdPair: fc.Arbitrary<[NodeId, NodeId]> = arbId.chain((a) =>
  fc.tuple(fc.constant(a), fc.oneof(arbId, arbIdNear(a), fc.constant(new Uint8Array(a)))),
);

function setBit(id: Uint8Array, i: number, bit: number): void {
  const mask = 0x80 >> (i & 7);
  id[i >> 3] = bit ? id[i >> 3] | mask : id[i >> 3] & ~mask;
}

/** The oracle: walks bits one by one, independent of the byte/clz32 arithmetic under test. */
function bitwiseSharedPrefix(a: NodeId, b: NodeId): number {
  let n = 0;
  for (let i = 0; i < ID_BITS; i++) {
    const bitA = (a[Math.floor(i / 8)] >> (7 - (i % 8))) & 1;
    const bitB = (b[Math.floor(i / 8)] >> (7 - (i % 8))) & 1;
    if (bitA !== bitB) break;
    n++;
  }
  return n;
}

/** Distances as big integers: the textbook definition of XOR distance. */
function distanceBigInt(a: NodeId, b: NodeId): bigint {
  return BigInt('0x' + Buffer.from(xorDistance(a, b)).toString('hex'));
}

describe('node IDs', () => {
  describe('xorDistance and compareDistance', () => {
    it('xorDistance is symmetric, zero only for equal IDs, and 20 bytes long', () => {
      fc.assert(
        fc.property(arbIdPair, ([a, b]) => {
          const d = xorDistance(a, b);
          expect(d.length).toBe(ID_BYTES);
          expect(idEquals(d, xorDistance(b, a))).toBe(true);
          expect(d.every((byte) => byte === 0)).toBe(idEquals(a, b));
        }),
      );
    });

    it('compareDistance agrees in sign with the numeric XOR distance', () => {
      fc.assert(
        fc.property(arbId, arbIdPair, (target, [a, b]) => {
          const da = distanceBigInt(target, a);
          const db = distanceBigInt(target, b);
          const expected = da < db ? -1 : da > db ? 1 : 0;
          expect(Math.sign(compareDistance(target, a, b))).toBe(expected);
        }),
      );
    });

    it('is a strict total order: antisymmetric, zero only for the same ID, transitive', () => {
      fc.assert(
        fc.property(arbId, arbId, arbId, arbId, (target, a, b, c) => {
          expect(Math.sign(compareDistance(target, a, b))).toBe(-Math.sign(compareDistance(target, b, a)));
          expect(compareDistance(target, a, b) === 0).toBe(idEquals(a, b));
          if (compareDistance(target, a, b) < 0 && compareDistance(target, b, c) < 0) {
            expect(compareDistance(target, a, c)).toBeLessThan(0);
          }
        }),
      );
    });

    it('sorting by compareDistance gives the same order as sorting by numeric distance', () => {
      fc.assert(
        fc.property(arbId, fc.uniqueArray(arbId, { maxLength: 30, selector: idToHex }), (target, ids) => {
          const byCompare = [...ids].sort((a, b) => compareDistance(target, a, b)).map(idToHex);
          const byNumber = [...ids]
            .sort((a, b) => {
              const d = distanceBigInt(target, a) - distanceBigInt(target, b);
              return d < 0n ? -1 : d > 0n ? 1 : 0;
            })
            .map(idToHex);
          expect(byCompare).toEqual(byNumber);
        }),
      );
    });

    it('puts the target itself first', () => {
      fc.assert(
        fc.property(arbIdPair, ([target, other]) => {
          fc.pre(!idEquals(target, other));
          expect(compareDistance(target, target, other)).toBeLessThan(0);
        }),
      );
    });
  });

  describe('sharedPrefixLength', () => {
    it('matches a bit-by-bit oracle', () => {
      fc.assert(
        fc.property(arbIdPair, ([a, b]) => {
          expect(sharedPrefixLength(a, b)).toBe(bitwiseSharedPrefix(a, b));
        }),
        { numRuns: 500 },
      );
    });

    it('is 160 for equal IDs and 0 when the first bit differs', () => {
      const zero = new Uint8Array(ID_BYTES);
      const top = new Uint8Array(ID_BYTES);
      top[0] = 0x80;
      expect(sharedPrefixLength(zero, new Uint8Array(ID_BYTES))).toBe(160);
      expect(sharedPrefixLength(zero, top)).toBe(0);
    });

    it('finds a single differing bit at every position', () => {
      const zero = new Uint8Array(ID_BYTES);
      for (let i = 0; i < ID_BITS; i++) {
        const other = new Uint8Array(ID_BYTES);
        setBit(other, i, 1);
        expect(sharedPrefixLength(zero, other)).toBe(i);
        expect(sharedPrefixLength(other, zero)).toBe(i);
      }
    });
  });

  describe('bitAt', () => {
    it('reads bits most significant first', () => {
      const id = idFromHex('80' + '00'.repeat(18) + '01');
      expect(bitAt(id, 0)).toBe(1);
      expect(bitAt(id, 1)).toBe(0);
      expect(bitAt(id, 158)).toBe(0);
      expect(bitAt(id, 159)).toBe(1);
    });

    it('agrees with the binary expansion of the ID', () => {
      fc.assert(
        fc.property(arbId, (id) => {
          const binary = BigInt('0x' + idToHex(id))
            .toString(2)
            .padStart(ID_BITS, '0');
          for (let i = 0; i < ID_BITS; i++) expect(bitAt(id, i)).toBe(Number(binary[i]));
        }),
        { numRuns: 50 },
      );
    });
  });

  describe('randomIdWithPrefix', () => {
    it('keeps exactly the first prefixBits bits of the prefix', () => {
      fc.assert(
        fc.property(arbId, fc.integer({ min: 0, max: ID_BITS }), (prefix, bits) => {
          const id = randomIdWithPrefix(prefix, bits);
          expect(isNodeId(id)).toBe(true);
          for (let i = 0; i < bits; i++) expect(bitAt(id, i)).toBe(bitAt(prefix, i));
          expect(sharedPrefixLength(prefix, id)).toBeGreaterThanOrEqual(bits);
        }),
        { numRuns: 300 },
      );
    });

    it('returns the prefix itself for 160 bits and does not modify its argument', () => {
      const prefix = randomId();
      const copy = new Uint8Array(prefix);
      expect(idEquals(randomIdWithPrefix(prefix, ID_BITS), prefix)).toBe(true);
      randomIdWithPrefix(prefix, 77);
      expect(idEquals(prefix, copy)).toBe(true);
    });

    it('randomises the bits after the prefix', () => {
      // 64 draws with 8 free bits after the prefix: all equal has probability 2^-504.
      const prefix = new Uint8Array(ID_BYTES);
      const seen = new Set<number>();
      for (let i = 0; i < 64; i++) seen.add(randomIdWithPrefix(prefix, 152)[19]);
      expect(seen.size).toBeGreaterThan(1);
    });

    it('rejects prefix lengths outside 0..160', () => {
      expect(() => randomIdWithPrefix(randomId(), -1)).toThrow(RangeError);
      expect(() => randomIdWithPrefix(randomId(), 161)).toThrow(RangeError);
    });
  });

  describe('randomIdAtPrefixLength', () => {
    it('lands at exactly the requested shared prefix length', () => {
      fc.assert(
        fc.property(arbId, fc.integer({ min: 0, max: ID_BITS - 1 }), (own, cpl) => {
          const id = randomIdAtPrefixLength(own, cpl);
          expect(sharedPrefixLength(own, id)).toBe(cpl);
          expect(bitwiseSharedPrefix(own, id)).toBe(cpl);
        }),
        { numRuns: 500 },
      );
    });

    it('works at both ends of the range', () => {
      const own = randomId();
      for (const cpl of [0, 1, 7, 8, 9, 158, 159]) {
        expect(sharedPrefixLength(own, randomIdAtPrefixLength(own, cpl))).toBe(cpl);
      }
    });

    it('rejects lengths outside 0..159 (160 would be the own ID)', () => {
      expect(() => randomIdAtPrefixLength(randomId(), -1)).toThrow(RangeError);
      expect(() => randomIdAtPrefixLength(randomId(), 160)).toThrow(RangeError);
    });
  });

  describe('hex form', () => {
    it('round-trips every ID through lowercase hex', () => {
      fc.assert(
        fc.property(arbId, (id) => {
          const hex = idToHex(id);
          expect(hex).toMatch(/^[0-9a-f]{40}$/);
          expect(idEquals(idFromHex(hex), id)).toBe(true);
          expect(idEquals(idFromHex(hex.toUpperCase()), id)).toBe(true);
        }),
      );
    });

    it('reads only the bytes of a view, not its whole buffer', () => {
      const backing = new Uint8Array(ID_BYTES + 8).fill(0xee);
      const view = backing.subarray(4, 4 + ID_BYTES).fill(0x11);
      expect(idToHex(view)).toBe('11'.repeat(ID_BYTES));
    });

    it('rejects strings that are not exactly 40 hex digits', () => {
      const bad = [
        '',
        'abc',
        '0'.repeat(39),
        '0'.repeat(41),
        'g'.repeat(40),
        ` ${'0'.repeat(39)}`,
        '0x' + '0'.repeat(38),
      ];
      for (const text of bad) expect(() => idFromHex(text)).toThrow(RangeError);
    });

    it('rejects arbitrary garbage without crashing otherwise', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 60 }), (text) => {
          fc.pre(!/^[0-9a-fA-F]{40}$/.test(text));
          expect(() => idFromHex(text)).toThrow(RangeError);
        }),
      );
    });
  });

  describe('isNodeId and idEquals', () => {
    it('accepts only 20-byte Uint8Arrays', () => {
      expect(isNodeId(new Uint8Array(ID_BYTES))).toBe(true);
      expect(isNodeId(new Uint8Array(19))).toBe(false);
      expect(isNodeId(new Uint8Array(21))).toBe(false);
      expect(isNodeId('00'.repeat(20))).toBe(false);
      expect(isNodeId(Array.from({ length: 20 }, () => 0))).toBe(false);
      expect(isNodeId(undefined)).toBe(false);
    });

    it('compares by content and length', () => {
      const a = randomId();
      expect(idEquals(a, new Uint8Array(a))).toBe(true);
      expect(idEquals(a, a.subarray(0, 19))).toBe(false);
      const b = new Uint8Array(a);
      b[19] ^= 1;
      expect(idEquals(a, b)).toBe(false);
    });
  });
});
