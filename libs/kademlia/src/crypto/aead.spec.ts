import { createSecretKey } from 'node:crypto';
import { AEAD_TAG_BYTES, open, openWithNonce, seal, sealWithNonce, writeNoiseNonce } from './aead';

const fromHex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));
const key = createSecretKey(Buffer.alloc(32, 7));
const ad = new Uint8Array([1, 2, 3]);

describe('ChaCha20-Poly1305 helpers', () => {
  it('match RFC 8439 §2.8.2 (the sunscreen vector)', () => {
    const rfcKey = createSecretKey(Buffer.from([...Array(32).keys()].map((i) => 0x80 + i)));
    const plaintext = new TextEncoder().encode(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const out = new Uint8Array(plaintext.length + AEAD_TAG_BYTES);
    const nonce = fromHex('070000004041424344454647');
    const aad = fromHex('50515253c0c1c2c3c4c5c6c7');
    sealWithNonce({ key: rfcKey, ad: aad, plaintext, out, offset: 0 }, nonce);
    const hex = Buffer.from(out).toString('hex');
    expect(hex.startsWith('d31a8d34648e60db7b86afbc53ef7ec2')).toBe(true);
    expect(hex.endsWith('1ae10b594f09e26a7e902ecbd0600691')).toBe(true);
    expect(Buffer.from(openWithNonce(rfcKey, nonce, aad, out)!).toString()).toContain('sunscreen');
  });

  it('writes the Noise nonce: 4 zero bytes, then the counter little-endian', () => {
    const nonce = new Uint8Array(12).fill(0xff);
    writeNoiseNonce(0x0102_0304_0506, nonce);
    expect(Buffer.from(nonce).toString('hex')).toBe('000000000605040302010000');
  });

  it('round-trips, and refuses another counter, AD, key, a flipped bit or a cut tag', () => {
    const sealed = seal(key, 42, ad, new Uint8Array([9, 8, 7]));
    expect([...open(key, 42, ad, sealed)!]).toEqual([9, 8, 7]);
    expect(open(key, 43, ad, sealed)).toBeUndefined();
    expect(open(key, 42, new Uint8Array([1, 2, 4]), sealed)).toBeUndefined();
    expect(open(createSecretKey(Buffer.alloc(32, 8)), 42, ad, sealed)).toBeUndefined();
    for (let i = 0; i < sealed.length; i++) {
      const flipped = Buffer.from(sealed);
      flipped[i] ^= 0x10;
      expect(open(key, 42, ad, flipped)).toBeUndefined();
    }
    expect(open(key, 42, ad, sealed.subarray(0, sealed.length - 1))).toBeUndefined();
    expect(open(key, 42, ad, new Uint8Array(3))).toBeUndefined();
  });

  it('seals an empty plaintext to a bare tag', () => {
    const sealed = seal(key, 0, ad, new Uint8Array(0));
    expect(sealed.length).toBe(AEAD_TAG_BYTES);
    expect(open(key, 0, ad, sealed)!.length).toBe(0);
  });
});
