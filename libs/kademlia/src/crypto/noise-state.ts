import { createHash, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { open, seal } from './aead';

/** Noise protocol name: IK pattern, X25519, ChaCha20-Poly1305, SHA-256. Exactly 32 bytes, so h starts as it. */
export const NOISE_PROTOCOL_NAME = 'Noise_IK_25519_ChaChaPoly_SHA256';
/**
 * Mixed into h before any key: a handshake made for another protocol or version of ours cannot complete
 * here. A version bump changes this string.
 */
export const NOISE_PROLOGUE = 'kadfleet session v1';
export const HASH_BYTES = 32;

const EMPTY = Buffer.alloc(0);

export function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/**
 * Noise's HKDF(ck, ikm) with two outputs is RFC 5869 HKDF-SHA256 with salt = ck, empty info and 64 bytes of
 * output: output1 = T(1), output2 = T(2) are exactly Noise's HMAC chain.
 */
export function noiseHkdf(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array): [Buffer, Buffer] {
  const out = Buffer.from(hkdfSync('sha256', inputKeyMaterial, chainingKey, EMPTY, 2 * HASH_BYTES));
  return [out.subarray(0, HASH_BYTES), out.subarray(HASH_BYTES)];
}

// h after InitializeSymmetric(name) and MixHash(prologue): the same for every handshake, so computed once.
const INITIAL_CK = Buffer.from(NOISE_PROTOCOL_NAME, 'ascii');
const INITIAL_H = sha256(INITIAL_CK, Buffer.from(NOISE_PROLOGUE, 'ascii'));

/** The raw bytes of both transport keys; sessions wrap them in KeyObjects, golden vectors print them. */
export interface TransportKeys {
  readonly initiatorToResponder: Buffer;
  readonly responderToInitiator: Buffer;
}

/**
 * Noise's SymmetricState (spec §5.2): chaining key ck, handshake hash h and the current cipher key.
 * One deliberate extension: EncryptAndHash/DecryptAndHash take the nonce explicitly. A handshake message
 * that is re-sent with a different payload uses a new nonce (its attempt number) under the same key, so no
 * (key, nonce) pair ever encrypts two plaintexts; attempt 0 is byte for byte standard Noise.
 */
export class SymmetricState {
  private constructor(
    private ck: Buffer,
    private hash: Buffer,
    private key: KeyObject | undefined,
  ) {}

  /**
   * InitializeSymmetric(protocol name), then MixHash(prologue). Another prologue is only for checking this
   * code against other implementations' published Noise vectors.
   */
  static initialize(prologue?: Uint8Array): SymmetricState {
    const h = prologue === undefined ? INITIAL_H : sha256(INITIAL_CK, prologue);
    return new SymmetricState(INITIAL_CK, h, undefined);
  }

  /** The handshake hash so far: every key and ciphertext of the handshake is bound into it. */
  get h(): Buffer {
    return this.hash;
  }

  /** Buffers are replaced, never mutated, so a clone can share them. */
  clone(): SymmetricState {
    return new SymmetricState(this.ck, this.hash, this.key);
  }

  /**
   * This state's ck and key with another handshake hash. A responder answering a second INIT attempt (or an
   * initiator reading its RESP) continues from the keys already derived, without repeating the DH work:
   * ck never depends on h, only the AD does.
   */
  withHash(hash: Buffer): SymmetricState {
    return new SymmetricState(this.ck, hash, this.key);
  }

  mixHash(data: Uint8Array): void {
    this.hash = sha256(this.hash, data);
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempKey] = noiseHkdf(this.ck, inputKeyMaterial);
    this.ck = ck;
    this.key = createSecretKey(tempKey);
  }

  /** Without a key yet this would be plaintext in Noise; our patterns always have one, so it is a bug. */
  encryptAndHash(plaintext: Uint8Array, nonce: number): Buffer {
    if (this.key === undefined) throw new Error('encryptAndHash before any mixKey');
    const ciphertext = seal(this.key, nonce, this.hash, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** The plaintext, or undefined when authentication fails (then h is left unchanged). */
  decryptAndHash(ciphertext: Uint8Array, nonce: number): Buffer | undefined {
    if (this.key === undefined) return undefined;
    const plaintext = open(this.key, nonce, this.hash, ciphertext);
    if (plaintext !== undefined) this.mixHash(ciphertext);
    return plaintext;
  }

  /** Split(): the two transport keys, derived from ck alone (so every payload variant yields the same). */
  split(): TransportKeys {
    const [initiatorToResponder, responderToInitiator] = noiseHkdf(this.ck, EMPTY);
    return { initiatorToResponder, responderToInitiator };
  }
}
