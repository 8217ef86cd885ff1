import { createCipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { JS_AEAD_MAX_BYTES, openSession, sealSession, sessionKey } from './aead';
import { chachaKey, chachaPolyOpen, chachaPolySeal, type ChaChaNonce } from './chacha20-poly1305';

const fromHex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));

function nonceWords(nonce: Uint8Array): ChaChaNonce {
  const view = Buffer.from(nonce.buffer, nonce.byteOffset, 12);
  return { n0: view.readUInt32LE(0), n1: view.readUInt32LE(4), n2: view.readUInt32LE(8) };
}

/** What OpenSSL writes for the same inputs: ciphertext, then tag. */
function reference(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  cipher.setAAD(ad, { plaintextLength: plaintext.length });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

describe('ChaCha20-Poly1305 in JavaScript', () => {
  it('matches RFC 8439 §2.8.2 (the sunscreen vector)', () => {
    const key = chachaKey(Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i));
    const plaintext = new TextEncoder().encode(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const nonce = nonceWords(fromHex('070000004041424344454647'));
    const ad = fromHex('50515253c0c1c2c3c4c5c6c7');
    const out = new Uint8Array(plaintext.length + 16);
    expect(chachaPolySeal({ key, nonce, ad, plaintext, out, offset: 0 })).toBe(out.length);
    const hex = Buffer.from(out).toString('hex');
    expect(hex.startsWith('d31a8d34648e60db7b86afbc53ef7ec2')).toBe(true);
    expect(hex.endsWith('1ae10b594f09e26a7e902ecbd0600691')).toBe(true);
    expect(Buffer.from(chachaPolyOpen({ key, nonce, ad, sealed: out })!).toString()).toContain('sunscreen');
  });

  it('writes exactly the bytes node:crypto writes, at any length, alignment and offset', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 1300 }),
        fc.nat(7),
        (rawKey, nonce, ad, plaintext, shift) => {
          // Unaligned input and output take the byte path; aligned ones the word path.
          const input = new Uint8Array(plaintext.length + shift);
          input.set(plaintext, shift);
          const out = new Uint8Array(shift + plaintext.length + 16);
          const key = chachaKey(rawKey);
          const n = nonceWords(nonce);
          chachaPolySeal({ key, nonce: n, ad, plaintext: input.subarray(shift), out, offset: shift });
          const sealed = out.subarray(shift);
          expect(Buffer.from(sealed).equals(reference(rawKey, nonce, ad, plaintext))).toBe(true);
          expect(Buffer.from(chachaPolyOpen({ key, nonce: n, ad, sealed })!).equals(plaintext)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('handles the extremes of Poly1305 arithmetic (all-ones keys, data and tags)', () => {
    for (let length = 0; length <= 200; length += 7) {
      const rawKey = new Uint8Array(32).fill(0xff);
      const nonce = new Uint8Array(12).fill(0xff);
      const ad = new Uint8Array(length % 33).fill(0xff);
      const plaintext = new Uint8Array(length * 5).fill(0xff);
      const out = new Uint8Array(plaintext.length + 16);
      chachaPolySeal({ key: chachaKey(rawKey), nonce: nonceWords(nonce), ad, plaintext, out, offset: 0 });
      expect(Buffer.from(out).equals(reference(rawKey, nonce, ad, plaintext))).toBe(true);
    }
  });

  it('refuses a flipped bit anywhere, another AD or nonce, and input shorter than a tag', () => {
    const key = chachaKey(randomBytes(32));
    const nonce = { n0: 0, n1: 7, n2: 0 };
    const ad = new Uint8Array([1, 2, 3]);
    const plaintext = randomBytes(100);
    const sealed = new Uint8Array(116);
    chachaPolySeal({ key, nonce, ad, plaintext, out: sealed, offset: 0 });
    for (let bit = 0; bit < sealed.length * 8; bit += 13) {
      const copy = Uint8Array.from(sealed);
      copy[bit >> 3] ^= 1 << (bit & 7);
      expect(chachaPolyOpen({ key, nonce, ad, sealed: copy })).toBeUndefined();
    }
    expect(chachaPolyOpen({ key, nonce, ad: new Uint8Array([1, 2, 4]), sealed })).toBeUndefined();
    expect(chachaPolyOpen({ key, nonce: { n0: 0, n1: 8, n2: 0 }, ad, sealed })).toBeUndefined();
    expect(chachaPolyOpen({ key, nonce, ad, sealed: sealed.subarray(0, 15) })).toBeUndefined();
  });

  it('gives session keys the same bytes on both sides of the size switch to OpenSSL', () => {
    const raw = randomBytes(32);
    const key = sessionKey(raw);
    const ad = new Uint8Array(16).fill(9);
    for (const length of [0, 1, JS_AEAD_MAX_BYTES, JS_AEAD_MAX_BYTES + 1, 1200]) {
      const plaintext = randomBytes(length);
      const counter = 2 ** 40 + length;
      const out = new Uint8Array(length + 16);
      sealSession({ key, counter, ad, plaintext, out, offset: 0 });
      const nonce = new Uint8Array(12);
      Buffer.from(nonce.buffer).writeUInt32LE(counter % 2 ** 32, 4);
      Buffer.from(nonce.buffer).writeUInt32LE(Math.floor(counter / 2 ** 32), 8);
      expect(Buffer.from(out).equals(reference(raw, nonce, ad, plaintext))).toBe(true);
      expect(Buffer.from(openSession({ key, counter, ad, sealed: out })!).equals(plaintext)).toBe(true);
      expect(openSession({ key, counter: counter + 1, ad, sealed: out })).toBeUndefined();
    }
  });
});
