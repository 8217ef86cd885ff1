import fc from 'fast-check';
import { nodeIdFromPublicKey } from '../../id/key-id';
import type { Contact } from '../../routing/contact';
import { bytesToIp, isIPv4MappedBytes } from '../ip-address';
import { MessageType, RemoteErrorCode, StoreStatus, type Message, type WireRecord } from '../messages';
import { WIRE_LIMITS } from '../wire-limits';

/** fast-check generators of valid messages, in the canonical form the decoder returns (for wire specs). */

const bytes = (length: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: length, maxLength: length });

export const requestIdArb = fc.oneof(
  fc.integer({ min: 0, max: 23 }),
  fc.integer({ min: 0, max: WIRE_LIMITS.maxRequestId }),
  fc.constant(WIRE_LIMITS.maxRequestId),
);

/** Canonical host text: IPv4 dotted, or compressed IPv6 that is not IPv4-mapped. */
export const hostArb = fc.oneof(
  bytes(4).map(bytesToIp),
  bytes(16)
    .filter((b) => !isIPv4MappedBytes(b))
    .map(bytesToIp),
  fc.constantFrom('::1', '2001:db8::1', 'fe80::', '::'),
);

export const portArb = fc.oneof(
  fc.integer({ min: 1, max: 65_535 }),
  fc.constantFrom(1, 23, 24, 255, 256, 65_535),
);

export const contactArb: fc.Arbitrary<Contact> = fc
  .record({ publicKey: bytes(WIRE_LIMITS.publicKeyBytes), host: hostArb, port: portArb })
  .map(({ publicKey, host, port }) => ({ id: nodeIdFromPublicKey(publicKey), publicKey, host, port }));

const immutableRecordArb: fc.Arbitrary<WireRecord> = fc.record({
  key: bytes(WIRE_LIMITS.idBytes),
  value: fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.uint8Array({ minLength: 900, maxLength: WIRE_LIMITS.maxValueBytes }),
  ),
  ttlSeconds: fc.integer({ min: 0, max: WIRE_LIMITS.maxTtlSeconds }),
});

/** Signed records of every size class, up to value + salt = maxSignedValueBytes (not verified: the codec does not). */
const signedRecordArb: fc.Arbitrary<WireRecord> = fc
  .record({
    key: bytes(WIRE_LIMITS.idBytes),
    salt: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: WIRE_LIMITS.maxSaltBytes })),
    valueLength: fc.oneof(
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 0, max: WIRE_LIMITS.maxSignedValueBytes }),
    ),
    ttlSeconds: fc.integer({ min: 0, max: WIRE_LIMITS.maxTtlSeconds }),
    publicKey: bytes(WIRE_LIMITS.signingKeyBytes),
    seq: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constant(WIRE_LIMITS.maxSeq), fc.maxSafeNat()),
    signature: bytes(WIRE_LIMITS.signatureBytes),
  })
  .map(({ valueLength, ...r }) => ({
    ...r,
    value: new Uint8Array(Math.min(valueLength, WIRE_LIMITS.maxSignedValueBytes - r.salt.length)).fill(7),
  }));

export const recordArb: fc.Arbitrary<WireRecord> = fc.oneof(immutableRecordArb, signedRecordArb);

const tokenArb = bytes(WIRE_LIMITS.tokenBytes);

/** Well-formed text whose UTF-8 fits the ERROR bound (at most 4 bytes per code point). */
const errorTextArb = fc.string({ unit: 'binary', maxLength: WIRE_LIMITS.maxErrorTextBytes / 4 });

export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant(MessageType.PING as const), requestId: requestIdArb }),
  fc.record({
    type: fc.constant(MessageType.PONG as const),
    requestId: requestIdArb,
    observed: fc.record({ host: hostArb, port: portArb }),
  }),
  fc.record({
    type: fc.constant(MessageType.FIND_NODE as const),
    requestId: requestIdArb,
    target: bytes(WIRE_LIMITS.idBytes),
  }),
  fc.record({
    type: fc.constant(MessageType.FIND_NODE_BY_DISTANCE as const),
    requestId: requestIdArb,
    distances: fc.uniqueArray(fc.integer({ min: 0, max: WIRE_LIMITS.maxDistance }), {
      minLength: 1,
      maxLength: WIRE_LIMITS.maxDistances,
    }),
  }),
  fc.integer({ min: 1, max: WIRE_LIMITS.maxNodesParts }).chain((total) =>
    fc.record(
      {
        type: fc.constant(MessageType.NODES as const),
        requestId: requestIdArb,
        total: fc.constant(total),
        part: fc.integer({ min: 0, max: total - 1 }),
        contacts: fc.array(contactArb, { maxLength: WIRE_LIMITS.maxContactsPerNodes }),
        token: tokenArb,
      },
      { requiredKeys: ['type', 'requestId', 'total', 'part', 'contacts'] },
    ),
  ),
  fc.record(
    {
      type: fc.constant(MessageType.FIND_VALUE as const),
      requestId: requestIdArb,
      key: bytes(20),
      minSeq: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.maxSafeNat()),
    },
    { requiredKeys: ['type', 'requestId', 'key'] },
  ),
  fc.record({
    type: fc.constant(MessageType.VALUE as const),
    requestId: requestIdArb,
    record: recordArb,
    token: tokenArb,
  }),
  fc.record({
    type: fc.constant(MessageType.STORE as const),
    requestId: requestIdArb,
    token: tokenArb,
    record: recordArb,
  }),
  fc.record({
    type: fc.constant(MessageType.STORE_ACK as const),
    requestId: requestIdArb,
    status: fc.constantFrom(...enumValues(StoreStatus)),
  }),
  fc.record(
    {
      type: fc.constant(MessageType.ERROR as const),
      requestId: requestIdArb,
      code: fc.constantFrom(...enumValues(RemoteErrorCode)),
      message: errorTextArb,
    },
    { requiredKeys: ['type', 'requestId', 'code'] },
  ),
);

function enumValues<E extends number>(enumObject: Record<string, E | string>): E[] {
  return Object.values(enumObject).filter((v): v is E => typeof v === 'number');
}
