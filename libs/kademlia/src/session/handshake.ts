import type { KeyObject } from 'node:crypto';
import { AEAD_TAG_BYTES } from '../crypto/aead';
import { sha256, SymmetricState, type TransportKeys } from '../crypto/noise-state';
import { generateX25519KeyPair, x25519, X25519_KEY_BYTES, type X25519KeyPair } from '../crypto/x25519';

/** The initiator's static key, encrypted: 32 bytes and a tag. */
export const ENCRYPTED_STATIC_BYTES = X25519_KEY_BYTES + AEAD_TAG_BYTES;

/**
 * The two operations a handshake needs from outside. Tests inject fixed ephemeral keys (golden vectors)
 * and a counting DH (cookie mode must do none for unverified senders).
 */
export interface HandshakeCrypto {
  /** X25519; undefined for a low-order public key. */
  dh(privateKey: KeyObject, publicKey: Uint8Array): Buffer | undefined;
  generateEphemeral(): X25519KeyPair;
}

export const nodeHandshakeCrypto: HandshakeCrypto = {
  dh: x25519,
  generateEphemeral: generateX25519KeyPair,
};

export interface InitiatorOptions {
  readonly local: X25519KeyPair;
  /** The responder's static key, known before the handshake: that is what makes it IK. */
  readonly remoteStatic: Uint8Array;
  readonly crypto?: HandshakeCrypto;
  /** Only to check against published Noise vectors; kadfleet always uses NOISE_PROLOGUE. */
  readonly prologue?: Uint8Array;
}

/**
 * The initiator's half of Noise IK, without IO:
 *   <- s                      (pre-message: the responder's static key, from its Contact)
 *   -> e, es, s, ss, payload  (INIT)
 *   <- e, ee, se, payload     (RESP)
 * `start` runs the tokens up to the payload; each INIT attempt then seals its own payload with the attempt
 * number as nonce. The first valid RESP, for any attempt, establishes the transport keys.
 */
export class InitiatorHandshake {
  private readonly afterStatic: SymmetricState;
  /** State after each attempt's payload: a RESP names the attempt it answers. */
  private readonly attempts = new Map<number, SymmetricState>();
  /** Attempts whose RESP was read: a second copy is a replay, its payload must not be delivered twice. */
  private readonly answered = new Set<number>();
  private ephemeralPrivate: KeyObject | undefined;
  private established:
    | { afterSe: SymmetricState; responderEphemeral: Buffer; keys: TransportKeys; hash: Buffer }
    | undefined;

  private constructor(
    readonly ephemeralPublicKey: Uint8Array,
    readonly encryptedStatic: Buffer,
    afterStatic: SymmetricState,
    ephemeralPrivate: KeyObject,
    private readonly options: InitiatorOptions,
  ) {
    this.afterStatic = afterStatic;
    this.ephemeralPrivate = ephemeralPrivate;
  }

  /** Undefined when a DH fails, i.e. the remote static key is a low-order point. */
  static start(options: InitiatorOptions): InitiatorHandshake | undefined {
    const crypto = options.crypto ?? nodeHandshakeCrypto;
    const state = SymmetricState.initialize(options.prologue);
    state.mixHash(options.remoteStatic);
    const e = crypto.generateEphemeral();
    state.mixHash(e.publicKey);
    const es = crypto.dh(e.privateKey, options.remoteStatic);
    if (es === undefined) return undefined;
    state.mixKey(es);
    const encryptedStatic = state.encryptAndHash(options.local.publicKey, 0);
    const ss = crypto.dh(options.local.privateKey, options.remoteStatic);
    if (ss === undefined) return undefined;
    state.mixKey(ss);
    return new InitiatorHandshake(e.publicKey, encryptedStatic, state, e.privateKey, options);
  }

  get isEstablished(): boolean {
    return this.established !== undefined;
  }

  /** Noise's handshake hash after the first RESP read: a transcript digest both sides share. */
  get handshakeHash(): Buffer | undefined {
    return this.established?.hash;
  }

  wasAnswered(attempt: number): boolean {
    return this.answered.has(attempt);
  }

  /** Encrypts the INIT body of one attempt (0..255); each attempt number must be used once. */
  sealPayload(attempt: number, plaintext: Uint8Array): Buffer {
    // Reusing an attempt would encrypt two plaintexts under one (key, nonce): a bug, never a network event.
    if (this.attempts.has(attempt)) throw new Error(`INIT attempt ${attempt} already sealed`);
    const state = this.afterStatic.clone();
    const ciphertext = state.encryptAndHash(plaintext, attempt);
    this.attempts.set(attempt, state);
    return ciphertext;
  }

  /**
   * Reads a RESP's ephemeral key and body. Returns the body plaintext and the transport keys, or undefined
   * when the RESP does not authenticate (wrong attempt, forged, or from another responder ephemeral key).
   */
  openResponse(
    attempt: number,
    responderEphemeral: Uint8Array,
    ciphertext: Uint8Array,
  ): { plaintext: Buffer; keys: TransportKeys } | undefined {
    const afterPayload = this.attempts.get(attempt);
    if (afterPayload === undefined) return undefined;
    const established = this.established;
    if (established !== undefined) {
      if (!established.responderEphemeral.equals(responderEphemeral)) return undefined;
      const state = established.afterSe.withHash(sha256(afterPayload.h, responderEphemeral));
      const plaintext = state.decryptAndHash(ciphertext, attempt);
      if (plaintext === undefined) return undefined;
      this.answered.add(attempt);
      return { plaintext, keys: established.keys };
    }
    const crypto = this.options.crypto ?? nodeHandshakeCrypto;
    if (this.ephemeralPrivate === undefined) return undefined;
    const state = afterPayload.clone();
    state.mixHash(responderEphemeral);
    const ee = crypto.dh(this.ephemeralPrivate, responderEphemeral);
    if (ee === undefined) return undefined;
    state.mixKey(ee);
    const se = crypto.dh(this.options.local.privateKey, responderEphemeral);
    if (se === undefined) return undefined;
    state.mixKey(se);
    const afterSe = state.clone();
    const plaintext = state.decryptAndHash(ciphertext, attempt);
    if (plaintext === undefined) return undefined;
    const keys = state.split();
    this.answered.add(attempt);
    this.established = { afterSe, responderEphemeral: Buffer.from(responderEphemeral), keys, hash: state.h };
    // Forward secrecy: once the keys exist, the ephemeral private key has no further use.
    this.ephemeralPrivate = undefined;
    return { plaintext, keys };
  }
}

export interface ResponderReadOptions {
  readonly local: X25519KeyPair;
  readonly initiatorEphemeral: Uint8Array;
  readonly encryptedStatic: Uint8Array;
  readonly crypto?: HandshakeCrypto;
  /** Only to check against published Noise vectors; kadfleet always uses NOISE_PROLOGUE. */
  readonly prologue?: Uint8Array;
}

/**
 * The responder's half of Noise IK. `readInit` runs e, es, s, ss (two DH) and learns the initiator's static
 * key; `establish` runs e, ee, se (a key pair and two DH). Later attempts of the same INIT reuse both, so an
 * INIT re-sent with a new payload costs no DH.
 */
export class ResponderHandshake {
  private lastOpened: { attempt: number; state: SymmetricState } | undefined;
  private readonly sealedAttempts = new Set<number>();
  private established: { afterSe: SymmetricState; ephemeral: Uint8Array; keys: TransportKeys } | undefined;

  private constructor(
    readonly initiatorStatic: Uint8Array,
    private readonly initiatorEphemeral: Uint8Array,
    private readonly afterStatic: SymmetricState,
    private readonly crypto: HandshakeCrypto,
  ) {}

  /** Undefined when the INIT was not made for our static key (or carries low-order points). */
  static readInit(options: ResponderReadOptions): ResponderHandshake | undefined {
    const crypto = options.crypto ?? nodeHandshakeCrypto;
    if (options.encryptedStatic.length !== ENCRYPTED_STATIC_BYTES) return undefined;
    const state = SymmetricState.initialize(options.prologue);
    state.mixHash(options.local.publicKey);
    state.mixHash(options.initiatorEphemeral);
    const es = crypto.dh(options.local.privateKey, options.initiatorEphemeral);
    if (es === undefined) return undefined;
    state.mixKey(es);
    const initiatorStatic = state.decryptAndHash(options.encryptedStatic, 0);
    if (initiatorStatic === undefined) return undefined;
    const ss = crypto.dh(options.local.privateKey, initiatorStatic);
    if (ss === undefined) return undefined;
    state.mixKey(ss);
    return new ResponderHandshake(
      new Uint8Array(initiatorStatic),
      new Uint8Array(options.initiatorEphemeral),
      state,
      crypto,
    );
  }

  get transportKeys(): TransportKeys | undefined {
    return this.established?.keys;
  }

  get responderEphemeral(): Uint8Array | undefined {
    return this.established?.ephemeral;
  }

  /**
   * Decrypts one attempt's INIT body. Authenticates the initiator: the key came from ss, which needs the
   * private half of the static key it claims.
   */
  openPayload(attempt: number, ciphertext: Uint8Array): Buffer | undefined {
    const state = this.afterStatic.clone();
    const plaintext = state.decryptAndHash(ciphertext, attempt);
    if (plaintext !== undefined) this.lastOpened = { attempt, state };
    return plaintext;
  }

  /**
   * Runs e, ee, se once (a key pair and two DH); from here on the transport keys exist. Only ck matters for
   * them, so this does not wait for a payload: each RESP later hashes its own attempt's transcript.
   */
  establish(): TransportKeys | undefined {
    if (this.established !== undefined) return this.established.keys;
    const e = this.crypto.generateEphemeral();
    const state = this.afterStatic.clone();
    const ee = this.crypto.dh(e.privateKey, this.initiatorEphemeral);
    if (ee === undefined) return undefined;
    state.mixKey(ee);
    const se = this.crypto.dh(e.privateKey, this.initiatorStatic);
    if (se === undefined) return undefined;
    state.mixKey(se);
    // The ephemeral private key is dropped here: nothing later needs it (forward secrecy).
    this.established = { afterSe: state, ephemeral: e.publicKey, keys: state.split() };
    return this.established.keys;
  }

  /**
   * Seals the RESP body answering the attempt opened last: h = HASH(h after that INIT ‖ e), then
   * EncryptAndHash under the key after se. Undefined before establish(), or for a second RESP to one attempt.
   */
  sealResponse(
    attempt: number,
    plaintext: Uint8Array,
  ): { ephemeral: Uint8Array; ciphertext: Buffer; hash: Buffer } | undefined {
    const opened = this.lastOpened;
    const established = this.established;
    // One RESP per attempt: a second would encrypt another plaintext under the same (key, nonce).
    if (
      established === undefined ||
      opened === undefined ||
      opened.attempt !== attempt ||
      this.sealedAttempts.has(attempt)
    ) {
      return undefined;
    }
    this.sealedAttempts.add(attempt);
    const state = established.afterSe.withHash(sha256(opened.state.h, established.ephemeral));
    const ciphertext = state.encryptAndHash(plaintext, attempt);
    return { ephemeral: established.ephemeral, ciphertext, hash: state.h };
  }
}
