import { sha1 } from '@noble/hashes/sha1';
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { KademliaError } from '../errors';
import { idEquals, isNodeId, type NodeId } from '../id/node-id';
import { WIRE_LIMITS } from '../wire/wire-limits';
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  isUnsafePublicKey,
  signingKeyPairFrom,
} from './signing-keys';

/**
 * Signed mutable records (BEP 44 style); docs/signed-records.md is the normative description with vectors.
 *
 * key       = SHA-1(publicKey ‖ salt)
 * signed    = DOMAIN ‖ u8 saltLength ‖ salt ‖ u64be seq ‖ u16be valueLength ‖ value
 * signature = Ed25519(privateKey, signed)
 *
 * The TTL is not signed: it counts down in transit and is storage policy, not the publisher's statement.
 * The public key is not in the signed bytes because Ed25519 already binds it (it is hashed into every
 * signature), and the key binds the salt a second time.
 */
export const SIGNED_RECORD_LIMITS = {
  /** BEP 44's bound: a salt names one of a publisher's records, it is not a payload. */
  maxSaltBytes: WIRE_LIMITS.maxSaltBytes,
  /** seq is a JavaScript safe integer, so every implementation can hold it exactly. */
  maxSeq: WIRE_LIMITS.maxSeq,
  /** value.length + salt.length: the whole record, signed fields and all, must fit one encrypted packet. */
  maxValueBytes: WIRE_LIMITS.maxSignedValueBytes,
} as const;

/** Prefixes every signed message, so a signature made for a kadfleet record means nothing anywhere else. */
export const SIGNED_RECORD_DOMAIN = new TextEncoder().encode('kadfleet-signed-record-v1');

const NO_SALT = new Uint8Array(0);

export interface SignedRecord {
  /** SHA-1(publicKey ‖ salt): where the record lives in the DHT. */
  readonly key: NodeId;
  /** Raw 32-byte Ed25519 public key of the publisher. */
  readonly publicKey: Uint8Array;
  /** 0..64 bytes; lets one key pair publish many records. */
  readonly salt: Uint8Array;
  /** Version, 0..2^53-1: a holder keeps the highest valid seq it has seen. */
  readonly seq: number;
  readonly value: Uint8Array;
  /** 64-byte Ed25519 signature over signableBytes(salt, seq, value). */
  readonly signature: Uint8Array;
}

export interface SignRecordInput {
  readonly privateKey: KeyObject;
  readonly value: Uint8Array;
  readonly seq: number;
  readonly salt?: Uint8Array;
  /** Bound on value.length + salt.length (defaults to SIGNED_RECORD_LIMITS.maxValueBytes, 900). */
  readonly maxValueBytes?: number;
}

export interface RecordCheckOptions {
  /** Bound on value.length + salt.length (defaults to SIGNED_RECORD_LIMITS.maxValueBytes, 900). */
  readonly maxValueBytes?: number;
}

/** Why a record is not acceptable in itself, whatever is stored already. */
export type SignedRecordProblem =
  | 'malformed'
  | 'too_large'
  | 'unsafe_public_key'
  | 'key_not_derived'
  | 'bad_signature';

export type UpdateRejection = SignedRecordProblem | 'key_mismatch' | 'seq_too_low' | 'seq_reused';

/**
 * What a holder does with an incoming record: `store` it (first or newer), `refresh` the one it holds
 * (same seq and value again: extend its TTL, nothing else changes), or `reject` it.
 */
export type UpdateDecision =
  | { readonly outcome: 'store'; readonly record: SignedRecord }
  | { readonly outcome: 'refresh'; readonly record: SignedRecord }
  | { readonly outcome: 'reject'; readonly reason: UpdateRejection };

/** SHA-1(publicKey ‖ salt), the DHT key of a publisher's record. */
export function signedRecordKey(publicKey: Uint8Array, salt: Uint8Array = NO_SALT): NodeId {
  const input = new Uint8Array(publicKey.length + salt.length);
  input.set(publicKey);
  input.set(salt, publicKey.length);
  return sha1(input);
}

/** The exact bytes a signature covers (see the file header); throws RECORD_INVALID on out-of-range input. */
export function signableBytes(fields: {
  readonly salt: Uint8Array;
  readonly seq: number;
  readonly value: Uint8Array;
}): Uint8Array {
  const { salt, seq, value } = fields;
  if (salt.length > SIGNED_RECORD_LIMITS.maxSaltBytes) throw invalid('salt is longer than 64 bytes');
  if (!isSeq(seq)) throw invalid(`seq must be an integer in 0..2^53-1, got ${seq}`);
  if (value.length > 0xffff) throw invalid('value is longer than 65535 bytes');
  const domain = SIGNED_RECORD_DOMAIN;
  const out = new Uint8Array(domain.length + 1 + salt.length + 8 + 2 + value.length);
  const view = new DataView(out.buffer);
  let at = 0;
  out.set(domain, at);
  at += domain.length;
  out[at++] = salt.length;
  out.set(salt, at);
  at += salt.length;
  view.setBigUint64(at, BigInt(seq));
  at += 8;
  view.setUint16(at, value.length);
  at += 2;
  out.set(value, at);
  return out;
}

/** Signs a record; throws RECORD_INVALID (bad key, salt or seq) or VALUE_TOO_LARGE. Copies its inputs. */
export function signRecord(input: SignRecordInput): SignedRecord {
  const { publicKey } = signingKeyPairFrom(input.privateKey);
  const salt = new Uint8Array(input.salt ?? NO_SALT);
  const value = new Uint8Array(input.value);
  const maxValueBytes = input.maxValueBytes ?? SIGNED_RECORD_LIMITS.maxValueBytes;
  if (value.length + salt.length > maxValueBytes) {
    throw new KademliaError(
      `value and salt take ${value.length + salt.length} bytes, more than ${maxValueBytes}`,
      'VALUE_TOO_LARGE',
    );
  }
  const signature = new Uint8Array(
    sign(null, signableBytes({ salt, seq: input.seq, value }), input.privateKey),
  );
  return { key: signedRecordKey(publicKey, salt), publicKey, salt, seq: input.seq, value, signature };
}

/**
 * What is wrong with a record, or undefined when it is valid: well-formed, within bounds, a safe public
 * key, key = SHA-1(publicKey ‖ salt), and a good signature. Never throws, whatever it is given.
 */
export function recordProblem(
  record: unknown,
  options: RecordCheckOptions = {},
): SignedRecordProblem | undefined {
  if (!isWellFormed(record)) return 'malformed';
  const maxValueBytes = options.maxValueBytes ?? SIGNED_RECORD_LIMITS.maxValueBytes;
  if (record.value.length + record.salt.length > maxValueBytes) return 'too_large';
  if (isUnsafePublicKey(record.publicKey)) return 'unsafe_public_key';
  if (!idEquals(record.key, signedRecordKey(record.publicKey, record.salt))) return 'key_not_derived';
  return signatureValid(record) ? undefined : 'bad_signature';
}

/** True when the record is valid (see recordProblem); never throws on junk. */
export function verifyRecord(record: unknown, options: RecordCheckOptions = {}): record is SignedRecord {
  return recordProblem(record, options) === undefined;
}

/**
 * The update rule of a holder that has `existing` (undefined when it holds nothing under that key) and
 * receives `incoming`: an invalid record, one for another key or publisher, an older seq, or the same
 * seq with a different value is rejected; the same seq and value is a refresh; a newer seq is stored.
 * `existing` is trusted (it was checked when stored); `incoming` is fully checked.
 */
export function acceptUpdate(
  existing: SignedRecord | undefined,
  incoming: unknown,
  options: RecordCheckOptions = {},
): UpdateDecision {
  const problem = recordProblem(incoming, options);
  if (problem) return reject(problem);
  const record = incoming as SignedRecord;
  if (!existing) return { outcome: 'store', record };
  // Same key but another publisher or salt would take a SHA-1 second preimage; refuse it all the same.
  if (
    !idEquals(existing.key, record.key) ||
    !bytesEqual(existing.publicKey, record.publicKey) ||
    !bytesEqual(existing.salt, record.salt)
  ) {
    return reject('key_mismatch');
  }
  if (record.seq < existing.seq) return reject('seq_too_low');
  if (record.seq === existing.seq) {
    return bytesEqual(record.value, existing.value)
      ? { outcome: 'refresh', record: existing }
      : reject('seq_reused');
  }
  return { outcome: 'store', record };
}

function reject(reason: UpdateRejection): UpdateDecision {
  return { outcome: 'reject', reason };
}

function isWellFormed(record: unknown): record is SignedRecord {
  if (typeof record !== 'object' || record === null) return false;
  const r = record as Partial<Record<keyof SignedRecord, unknown>>;
  return (
    isNodeId(r.key) &&
    r.publicKey instanceof Uint8Array &&
    r.publicKey.length === ED25519_PUBLIC_KEY_BYTES &&
    r.salt instanceof Uint8Array &&
    r.salt.length <= SIGNED_RECORD_LIMITS.maxSaltBytes &&
    isSeq(r.seq) &&
    r.value instanceof Uint8Array &&
    r.value.length <= 0xffff &&
    r.signature instanceof Uint8Array &&
    r.signature.length === ED25519_SIGNATURE_BYTES
  );
}

function signatureValid(record: SignedRecord): boolean {
  try {
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(record.publicKey).toString('base64url') },
      format: 'jwk',
    });
    return verify(null, signableBytes(record), publicKey, record.signature);
  } catch {
    // A key OpenSSL cannot parse is as good as a bad signature.
    return false;
  }
}

function isSeq(seq: unknown): seq is number {
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

function invalid(message: string): KademliaError {
  return new KademliaError(message, 'RECORD_INVALID');
}
