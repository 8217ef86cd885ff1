import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import {
  chachaKey,
  chachaPolyOpen,
  chachaPolySeal,
  type ChaChaKey,
  type ChaChaNonce,
} from './chacha20-poly1305';

/** Poly1305 tag appended to every ciphertext. */
export const AEAD_TAG_BYTES = 16;
export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;
const CIPHER = 'chacha20-poly1305';
const TAG_OPTIONS = { authTagLength: AEAD_TAG_BYTES } as const;

// createCipheriv copies the IV into its own context, so one scratch nonce serves every call (JS is
// single-threaded and nothing here yields between writing the nonce and creating the cipher).
const scratchNonce = Buffer.alloc(AEAD_NONCE_BYTES);

/**
 * The Noise nonce for ChaChaPoly: 32 zero bits, then the 64-bit counter little-endian. Counters stay within
 * Number.MAX_SAFE_INTEGER, so they are written as two 32-bit halves.
 */
export function writeNoiseNonce(counter: number, out: Uint8Array): void {
  const low = counter >>> 0;
  const high = Math.floor(counter / 0x1_0000_0000) >>> 0;
  out[0] = out[1] = out[2] = out[3] = 0;
  out[4] = low & 0xff;
  out[5] = (low >>> 8) & 0xff;
  out[6] = (low >>> 16) & 0xff;
  out[7] = low >>> 24;
  out[8] = high & 0xff;
  out[9] = (high >>> 8) & 0xff;
  out[10] = (high >>> 16) & 0xff;
  out[11] = high >>> 24;
}

export interface SealOptions {
  readonly key: KeyObject;
  readonly counter: number;
  /** Authenticated but not encrypted (the packet header, or the Noise handshake hash). */
  readonly ad: Uint8Array;
  readonly plaintext: Uint8Array;
  /** Where ciphertext and tag go: `plaintext.length + 16` bytes from `offset`. */
  readonly out: Uint8Array;
  readonly offset: number;
}

/** Encrypts into `out` at `offset` (ciphertext, then tag); returns the bytes written. */
export function sealInto(options: SealOptions): number {
  writeNoiseNonce(options.counter, scratchNonce);
  return sealWithNonce(options, scratchNonce);
}

/** sealInto with a raw 12-byte nonce (COOKIE replies use a random one). */
export function sealWithNonce(options: Omit<SealOptions, 'counter'>, nonce: Uint8Array): number {
  const { key, ad, plaintext, out, offset } = options;
  const cipher = createCipheriv(CIPHER, key, nonce, TAG_OPTIONS);
  cipher.setAAD(ad, { plaintextLength: plaintext.length });
  const body = cipher.update(plaintext);
  cipher.final();
  out.set(body, offset);
  out.set(cipher.getAuthTag(), offset + body.length);
  return body.length + AEAD_TAG_BYTES;
}

/** Encrypts into a new buffer: ciphertext then tag. */
export function seal(key: KeyObject, counter: number, ad: Uint8Array, plaintext: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(plaintext.length + AEAD_TAG_BYTES);
  sealInto({ key, counter, ad, plaintext, out, offset: 0 });
  return out;
}

/**
 * Decrypts `sealed` (ciphertext then tag). Returns the plaintext, or undefined when the tag does not verify
 * (wrong key, nonce, AD or any flipped bit) or the input is shorter than a tag; it never throws.
 */
export function open(
  key: KeyObject,
  counter: number,
  ad: Uint8Array,
  sealed: Uint8Array,
): Buffer | undefined {
  writeNoiseNonce(counter, scratchNonce);
  return openWithNonce(key, scratchNonce, ad, sealed);
}

/** open() with a raw 12-byte nonce. */
export function openWithNonce(
  key: KeyObject,
  nonce: Uint8Array,
  ad: Uint8Array,
  sealed: Uint8Array,
): Buffer | undefined {
  if (sealed.length < AEAD_TAG_BYTES || nonce.length !== AEAD_NONCE_BYTES) return undefined;
  const bodyLength = sealed.length - AEAD_TAG_BYTES;
  try {
    const decipher = createDecipheriv(CIPHER, key, nonce, TAG_OPTIONS);
    decipher.setAAD(ad, { plaintextLength: bodyLength });
    decipher.setAuthTag(sealed.subarray(bodyLength));
    const plaintext = decipher.update(sealed.subarray(0, bodyLength));
    decipher.final();
    return plaintext;
  } catch {
    return undefined;
  }
}

/**
 * Packets up to this many bytes of plaintext go through the JavaScript ChaCha20-Poly1305; larger ones through
 * OpenSSL. node:crypto costs ~4 µs per packet whatever its size (a new cipher context per nonce); the JS code
 * costs ~1 µs at 60 bytes and catches up with OpenSSL around 600 bytes on the machine of docs/performance.md.
 */
export const JS_AEAD_MAX_BYTES = 512;

/** A session's directional key in both forms: eight words for the JS cipher, a KeyObject for OpenSSL. */
export interface SessionKey {
  readonly object: KeyObject;
  readonly words: ChaChaKey;
}

export function sessionKey(raw: Uint8Array): SessionKey {
  return { object: createSecretKey(raw), words: chachaKey(raw) };
}

// The Noise nonce (32 zero bits, 64-bit counter) as three little-endian words; scratch, as scratchNonce is.
const nonceWords: ChaChaNonce = { n0: 0, n1: 0, n2: 0 };

/** sealInto for a session key: the same bytes, computed by whichever implementation is faster at this size. */
export function sealSession(options: Omit<SealOptions, 'key'> & { readonly key: SessionKey }): number {
  const { key, counter, ad, plaintext, out, offset } = options;
  if (plaintext.length > JS_AEAD_MAX_BYTES) return sealInto({ ...options, key: key.object });
  nonceWords.n1 = counter >>> 0;
  nonceWords.n2 = Math.floor(counter / 0x1_0000_0000) >>> 0;
  return chachaPolySeal({ key: key.words, nonce: nonceWords, ad, plaintext, out, offset });
}

/** open() for a session key; undefined when the tag does not verify. */
export function openSession(input: {
  key: SessionKey;
  counter: number;
  ad: Uint8Array;
  sealed: Uint8Array;
}): Uint8Array | undefined {
  const { key, counter, ad, sealed } = input;
  if (sealed.length - AEAD_TAG_BYTES > JS_AEAD_MAX_BYTES) return open(key.object, counter, ad, sealed);
  nonceWords.n1 = counter >>> 0;
  nonceWords.n2 = Math.floor(counter / 0x1_0000_0000) >>> 0;
  return chachaPolyOpen({ key: key.words, nonce: nonceWords, ad, sealed });
}
