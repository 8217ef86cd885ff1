import { isSignedWireRecord, type WireRecord } from '../wire/messages';
import type { SignedFields } from './signed-admission';

/**
 * A held record as it travels (STORE, VALUE, replication, republish, path caching): a signed record carries its
 * signed fields, so every receiver can verify it, and a signed key never turns into an immutable one in transit.
 */
export function wireRecordOf(
  record: { readonly key: Uint8Array; readonly value: Uint8Array; readonly signed?: SignedFields },
  ttlSeconds: number,
): WireRecord {
  const base = { key: record.key, value: record.value, ttlSeconds };
  return record.signed ? { ...base, ...signedFieldsOfRecord(record.signed) } : base;
}

/** The signed fields of a received record, ready for RecordStore.put; undefined for an immutable one. */
export function signedFieldsOf(record: WireRecord): SignedFields | undefined {
  return isSignedWireRecord(record) ? signedFieldsOfRecord(record) : undefined;
}

function signedFieldsOfRecord(signed: SignedFields): SignedFields {
  return { publicKey: signed.publicKey, seq: signed.seq, salt: signed.salt, signature: signed.signature };
}
