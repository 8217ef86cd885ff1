import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { runLookup } from '../lookup/lookup-runner';
import type { PutRejection } from '../store/record-store';
import {
  signedRecordKey,
  signRecord,
  SIGNED_RECORD_LIMITS,
  type SignedRecord,
} from '../store/signed-records';
import { signingKeyPairFromSeed, type SigningKeyPair } from '../store/signing-keys';
import { MessageType, type SignedWireRecord } from '../wire/messages';
import type { NodeRuntime } from './node-runtime';
import { findSignedRecord, type SignedValueOpsContext } from './signed-value-ops';
import { putToClosest, type StoreReport } from './value-ops';

/** What putSigned publishes. Give the publisher's key pair, or its 32-byte secret seed. */
export interface PutSignedInput {
  readonly keyPair?: SigningKeyPair;
  /** The 32-byte Ed25519 seed (RFC 8032's private key), e.g. from exportSigningSeed(). */
  readonly secretKey?: Uint8Array;
  readonly value: string | Uint8Array;
  /**
   * The version, 0..2^53-1; holders keep the highest. Omitted: one more than the highest version a read finds
   * (0 when there is none), which costs one lookup more.
   */
  readonly seq?: number;
  /** Names one of the publisher's records (0..64 bytes); the key is SHA-1(publicKey ‖ salt). */
  readonly salt?: string | Uint8Array;
}

export interface SignedOperationOptions {
  readonly signal?: AbortSignal;
  readonly deadlineMs?: number;
  /** Disjoint lookup paths (secure mode); absent or 1 is one path. */
  readonly paths?: number;
}

/** What putSigned resolves with: the store() report (statuses include bad_signature, seq_too_low, …). */
export interface SignedStoreReport extends StoreReport {
  /** The record as signed and sent. */
  readonly record: SignedRecord;
  /**
   * What this node's own store said: 'ok', or why it refused (e.g. seq_too_low when it already holds a newer
   * version). Only an accepted record is republished.
   */
  readonly local: 'ok' | PutRejection;
  /** Whether this node will republish the record (false when refused locally or the published list is full). */
  readonly republishing: boolean;
}

export interface GetSignedOptions extends SignedOperationOptions {
  readonly salt?: string | Uint8Array;
  /** Only a version with seq ≥ minSeq is returned; holders of older versions send no value bytes. */
  readonly minSeq?: number;
}

/** Signs value as version seq under (publicKey, salt), keeps it, stores it on the k closest and republishes it. */
export async function putSignedValue(
  node: NodeRuntime,
  input: PutSignedInput,
  options: SignedOperationOptions & { ttlMs?: number } = {},
): Promise<SignedStoreReport> {
  const pair = keyPairOf(input);
  const salt = bytesOf(input.salt);
  const value = bytesOf(input.value);
  const seq = input.seq ?? (await nextSeq(node, { publicKey: pair.publicKey, salt, options }));
  const record = signRecord({
    privateKey: pair.privateKey,
    value,
    seq,
    salt,
    maxValueBytes: Math.min(node.options.maxValueBytes, SIGNED_RECORD_LIMITS.maxValueBytes),
  });
  const ttlMs = Math.min(options.ttlMs ?? node.options.recordTtlMs, DEFAULTS.maxRecordTtlMs);
  const signed = { publicKey: record.publicKey, seq, salt: record.salt, signature: record.signature };
  const local = node.store.put({ key: record.key, value: record.value, ttlMs, origin: 'publish', signed });
  // A version our own store refuses (it holds a newer one) would be refused everywhere: never republish it.
  const republishing =
    local.ok && node.published.add({ key: record.key, value: record.value, ttlMs, signed });
  const report = await putToClosest(valueOpsOf(node, options), {
    record: { ...record, ttlSeconds: Math.ceil(ttlMs / 1000) },
    signal: options.signal,
  });
  return { ...report, record, local: local.ok ? 'ok' : local.reason, republishing };
}

/** The highest valid version under (publicKey, salt) with seq ≥ minSeq, or undefined when no node has one. */
export async function getSignedValue(
  node: NodeRuntime,
  publicKey: Uint8Array,
  options: GetSignedOptions = {},
): Promise<SignedRecord | undefined> {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new KademliaError('an Ed25519 public key is 32 bytes', 'RECORD_INVALID');
  }
  const { minSeq } = options;
  if (minSeq !== undefined && !(Number.isSafeInteger(minSeq) && minSeq >= 0)) {
    throw new KademliaError(`minSeq must be an integer in 0..2^53-1, got ${minSeq}`, 'RECORD_INVALID');
  }
  const key = signedRecordKey(publicKey, bytesOf(options.salt));
  const known = heldVersion(node, key);
  // Our own copy already satisfies the caller: no lookup needed (a copy we hold was verified when stored).
  if (known && minSeq !== undefined && known.seq >= minSeq) return toSignedRecord(known);
  const found = await findSignedRecord(signedValueOps(node, options), {
    key,
    minSeq,
    known,
    signal: options.signal,
  });
  return found.record ? toSignedRecord(found.record) : undefined;
}

/**
 * The signed-read context of a node. minSeq lookups run the node's lookup with FIND_VALUE requests carrying
 * minSeq; they bypass NodeRuntime.lookup (so no lookupCompleted event) until LookupInput can carry a request body.
 */
export function signedValueOps(
  node: NodeRuntime,
  options: SignedOperationOptions = {},
): SignedValueOpsContext {
  const base = valueOpsOf(node, options);
  return {
    ...base,
    maxValueBytes: node.options.maxValueBytes,
    // A forged or malformed record is evidence against the peer that returned it.
    reportPeer: (contact, event) => node.guard.report(contact.host, event),
    lookupWithMinSeq: ({ minSeq, onProgress, paths, ...input }) =>
      runLookup({
        ...node.lookupOptions({ ...input, deadlineMs: options.deadlineMs }),
        ...(paths !== undefined ? { paths } : {}),
        request: (to, body, requestOptions) =>
          node.request(to, body.type === MessageType.FIND_VALUE ? { ...body, minSeq } : body, requestOptions),
        onProgress,
      }),
  };
}

function valueOpsOf(node: NodeRuntime, options: SignedOperationOptions) {
  const base = node.valueOps({ deadlineMs: options.deadlineMs });
  return options.paths === undefined ? base : { ...base, paths: options.paths };
}

async function nextSeq(
  node: NodeRuntime,
  input: { publicKey: Uint8Array; salt: Uint8Array; options: SignedOperationOptions },
): Promise<number> {
  const current = await getSignedValue(node, input.publicKey, { ...input.options, salt: input.salt });
  const seq = current === undefined ? 0 : current.seq + 1;
  if (seq > SIGNED_RECORD_LIMITS.maxSeq) {
    throw new KademliaError('the record is at the largest seq; publish under another salt', 'RECORD_INVALID');
  }
  return seq;
}

/** The signed version this node holds under key (our store's copy, which was verified when stored). */
function heldVersion(node: NodeRuntime, key: Uint8Array): SignedWireRecord | undefined {
  const held = node.store.get(key);
  if (!held?.signed) return undefined;
  const ttlSeconds = Math.max(1, Math.ceil((held.expiresAt - node.options.clock.now()) / 1000));
  return { key: held.key, value: held.value, ttlSeconds, ...held.signed };
}

function keyPairOf(input: PutSignedInput): SigningKeyPair {
  if ((input.keyPair === undefined) === (input.secretKey === undefined)) {
    throw new KademliaError('putSigned needs exactly one of keyPair and secretKey', 'RECORD_INVALID');
  }
  return input.keyPair ?? signingKeyPairFromSeed(input.secretKey as Uint8Array);
}

function bytesOf(value: string | Uint8Array | undefined): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  return typeof value === 'string' ? new TextEncoder().encode(value) : value;
}

function toSignedRecord(record: SignedWireRecord): SignedRecord {
  const { key, publicKey, salt, seq, value, signature } = record;
  return { key, publicKey, salt, seq, value, signature };
}
