import { createHmac } from 'node:crypto';
import { NOISE_PROTOCOL_NAME, noiseHkdf, SymmetricState } from './noise-state';

const hmac = (key: Uint8Array, ...parts: Uint8Array[]) => {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
};

describe('Noise symmetric state', () => {
  it('uses a 32-byte protocol name, so h starts as the name itself', () => {
    expect(Buffer.byteLength(NOISE_PROTOCOL_NAME)).toBe(32);
  });

  it("computes Noise's HKDF (the HMAC chain of spec §4.3) with node's hkdfSync", () => {
    const ck = new Uint8Array(32).fill(3);
    const ikm = new Uint8Array([1, 2, 3, 4]);
    const tempKey = hmac(ck, ikm);
    const output1 = hmac(tempKey, new Uint8Array([1]));
    const output2 = hmac(tempKey, output1, new Uint8Array([2]));
    const [a, b] = noiseHkdf(ck, ikm);
    expect(a.equals(output1)).toBe(true);
    expect(b.equals(output2)).toBe(true);
    const [c] = noiseHkdf(ck, new Uint8Array(0));
    expect(c.equals(hmac(hmac(ck, new Uint8Array(0)), new Uint8Array([1])))).toBe(true);
  });

  it('binds every ciphertext to the transcript: another h cannot decrypt it', () => {
    const a = SymmetricState.initialize();
    a.mixKey(new Uint8Array(32).fill(1));
    const b = a.clone();
    const sealed = a.encryptAndHash(new Uint8Array([5]), 0);
    const other = b.clone();
    other.mixHash(new Uint8Array([0]));
    expect(other.decryptAndHash(sealed, 0)).toBeUndefined();
    expect([...b.decryptAndHash(sealed, 0)!]).toEqual([5]);
    expect(b.h.equals(a.h)).toBe(true);
  });

  it('differs from any other prologue (the version is bound into h)', () => {
    const ours = SymmetricState.initialize();
    const other = SymmetricState.initialize(new TextEncoder().encode('kadfleet session v2'));
    expect(ours.h.equals(other.h)).toBe(false);
  });
});
