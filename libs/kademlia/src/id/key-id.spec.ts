import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { keyToId, nodeIdFromPublicKey } from './key-id';
import { idToHex } from './node-id';

describe('keyToId', () => {
  it('is SHA-1 of the key (FIPS 180 test vectors)', () => {
    expect(idToHex(keyToId('abc'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(idToHex(keyToId(''))).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    expect(idToHex(keyToId('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
      '84983e441c3bd26ebaae4aa1f95129e5e54670f1',
    );
  });

  it('hashes strings as UTF-8', () => {
    // 'é' is c3 a9 in UTF-8 (e9 in Latin-1); '€' is e2 82 ac.
    expect(keyToId('é')).toEqual(keyToId(new Uint8Array([0xc3, 0xa9])));
    expect(keyToId('€')).toEqual(keyToId(new Uint8Array([0xe2, 0x82, 0xac])));
    expect(keyToId('é')).not.toEqual(keyToId(new Uint8Array([0xe9])));
  });

  it('gives the same ID for a string and its UTF-8 bytes, and matches node:crypto', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (key) => {
        const bytes = new TextEncoder().encode(key);
        const expected = createHash('sha1').update(Buffer.from(bytes)).digest('hex');
        expect(idToHex(keyToId(key))).toBe(expected);
        expect(idToHex(keyToId(bytes))).toBe(expected);
      }),
    );
  });

  it('returns 20-byte IDs and does not modify the input', () => {
    const input = new Uint8Array([1, 2, 3]);
    const id = keyToId(input);
    expect(id).toBeInstanceOf(Uint8Array);
    expect(id.length).toBe(20);
    expect([...input]).toEqual([1, 2, 3]);
  });
});

describe('nodeIdFromPublicKey', () => {
  it('is SHA-1 of the raw key bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
        expect(idToHex(nodeIdFromPublicKey(key))).toBe(
          createHash('sha1').update(Buffer.from(key)).digest('hex'),
        );
      }),
    );
  });
});
