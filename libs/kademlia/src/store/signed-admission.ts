import { acceptUpdate, type SignedRecord, type UpdateRejection } from './signed-records';

/** The signed part of a held record (docs/signed-records.md §2); key and value sit beside it. */
export interface SignedFields {
  /** Raw 32-byte Ed25519 public key of the publisher. */
  readonly publicKey: Uint8Array;
  /** The version: a holder only ever moves to a higher valid seq. */
  readonly seq: number;
  /** 0..64 bytes; key = SHA-1(publicKey ‖ salt). */
  readonly salt: Uint8Array;
  readonly signature: Uint8Array;
}

/** Why a write is refused by the signed-record rules (the store adds its own capacity reasons). */
export type SignedRejection =
  /** The public key is unsafe, the key is not SHA-1(publicKey ‖ salt), or the signature does not verify. */
  | 'bad_signature'
  /** Signed fields of the wrong shape, or another publisher under the same key (a SHA-1 second preimage). */
  | 'bad_record'
  /** Value and salt together above the signed-record bound. */
  | 'too_large'
  /** The holder has a newer version. */
  | 'seq_too_low'
  /** The held seq again, with another value. */
  | 'seq_reused'
  /** An immutable write to a key that holds a signed record: a signed key stays signed. */
  | 'signed_key';

/**
 * What a holder does with a write under a key it may already hold: `store` it (a first record, an immutable
 * overwrite, a newer signed version, or a signed record replacing an immutable one), `refresh` the signed record
 * it holds (the same version again: only the TTL moves), or `reject` it.
 */
export type SignedAdmission =
  | { readonly outcome: 'store' }
  | { readonly outcome: 'refresh' }
  | { readonly outcome: 'reject'; readonly reason: SignedRejection };

const REJECTIONS: Record<UpdateRejection, SignedRejection> = {
  malformed: 'bad_record',
  too_large: 'too_large',
  unsafe_public_key: 'bad_signature',
  key_not_derived: 'bad_signature',
  bad_signature: 'bad_signature',
  key_mismatch: 'bad_record',
  seq_too_low: 'seq_too_low',
  seq_reused: 'seq_reused',
};

const STORE: SignedAdmission = { outcome: 'store' };

/**
 * The rules of docs/signed-records.md §6 and §8.3 for one write (sans-IO; verifies the incoming signature, so a
 * holder never keeps a record it has not checked, whoever sent it). `maxValueBytes` bounds value + salt.
 */
export function admitWrite(input: {
  readonly key: Uint8Array;
  readonly existing?: { readonly value: Uint8Array; readonly signed?: SignedFields };
  readonly incoming: { readonly value: Uint8Array; readonly signed?: SignedFields };
  readonly maxValueBytes: number;
}): SignedAdmission {
  const { key, existing, incoming } = input;
  if (!incoming.signed) return existing?.signed ? { outcome: 'reject', reason: 'signed_key' } : STORE;
  // The very record we hold (a republish, a replication round): it was verified when stored, and a signature
  // check costs ~0.15-0.3 ms, which every hourly replication of every record would otherwise pay again.
  if (existing?.signed && sameRecord(existing, incoming)) return { outcome: 'refresh' };
  // An immutable record under the key is no obstacle: a valid signature proves the key is the publisher's.
  const held = existing?.signed ? asSigned(key, existing.value, existing.signed) : undefined;
  const decision = acceptUpdate(held, asSigned(key, incoming.value, incoming.signed), {
    maxValueBytes: input.maxValueBytes,
  });
  if (decision.outcome === 'reject') return { outcome: 'reject', reason: REJECTIONS[decision.reason] };
  return decision.outcome === 'refresh' ? { outcome: 'refresh' } : STORE;
}

export function asSigned(key: Uint8Array, value: Uint8Array, signed: SignedFields): SignedRecord {
  return {
    key,
    value,
    publicKey: signed.publicKey,
    seq: signed.seq,
    salt: signed.salt,
    signature: signed.signature,
  };
}

/** Bytes a held signed record takes beyond its value: salt, public key and signature. */
export function signedOverheadBytes(signed: SignedFields | undefined): number {
  return signed ? signed.salt.length + signed.publicKey.length + signed.signature.length : 0;
}

/** A copy of the signed fields (a received packet's bytes must not be kept alive by the store). */
export function copySignedFields(signed: SignedFields): SignedFields {
  return {
    publicKey: new Uint8Array(signed.publicKey),
    seq: signed.seq,
    salt: new Uint8Array(signed.salt),
    signature: new Uint8Array(signed.signature),
  };
}

function sameRecord(
  a: { readonly value: Uint8Array; readonly signed?: SignedFields },
  b: { readonly value: Uint8Array; readonly signed?: SignedFields },
): boolean {
  const x = a.signed as SignedFields;
  const y = b.signed as SignedFields;
  return (
    x.seq === y.seq &&
    bytesEqual(a.value, b.value) &&
    bytesEqual(x.signature, y.signature) &&
    bytesEqual(x.publicKey, y.publicKey) &&
    bytesEqual(x.salt, y.salt)
  );
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}
