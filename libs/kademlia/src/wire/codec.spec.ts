import { decode as cborxDecode, Encoder } from 'cbor-x';
import fc from 'fast-check';
import { idToHex } from '../id/node-id';
import { nodeIdFromPublicKey } from '../id/key-id';
import {
  decodeMessage,
  encodeMessage,
  WIRE_DROP_REASONS,
  type DecodeResult,
  type WireDropReason,
} from './codec';
import type { Contact } from '../routing/contact';
import { ipToBytes } from './ip-address';
import {
  isSignedWireRecord,
  MessageType,
  type Message,
  type RemoteErrorCode,
  type SignedWireRecord,
  type StoreStatus,
  type WireRecord,
} from './messages';
import { messageToJson } from './message-json';
import { messageArb } from './test/message-arbitraries';
import { DEFAULTS } from '../config/defaults';
import { INIT_OVERHEAD_BYTES } from '../session/encrypted-packets';
import { WIRE_LIMITS } from './wire-limits';

// Crafts arbitrary (also invalid) CBOR, the way a confused or hostile peer could.
const cborx = new Encoder({ useRecords: false, tagUint8Array: false });
const raw = (value: unknown): Uint8Array => cborx.encode(value);
const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex.replace(/\s/g, ''), 'hex'));
const b = (length: number, fill = 0xab): Uint8Array => new Uint8Array(length).fill(fill);

const pk = b(32, 0x11);
const contact = (ip: Uint8Array = fromHex('c0000201'), port: unknown = 6881): unknown[] => [pk, ip, port];
const record = (key = b(20), value = b(5), ttl: unknown = 60): unknown[] => [key, value, ttl];
/** A signed record's 7 items; the codec checks shapes, not signatures, so any bytes do. */
const signedRecord = (
  fields: { value?: unknown; publicKey?: unknown; seq?: unknown; salt?: unknown; signature?: unknown } = {},
): unknown[] => [
  b(20),
  'value' in fields ? fields.value : b(5),
  60,
  'publicKey' in fields ? fields.publicKey : b(32, 0x22),
  'seq' in fields ? fields.seq : 7,
  'salt' in fields ? fields.salt : b(3, 0x33),
  'signature' in fields ? fields.signature : b(64, 0x44),
];
const mapped = fromHex('00000000000000000000ffffc0000201');

/** cbor-x writes numbers above 2^32 - 1 as floats, bigints as integers: the wire wants integers. */
const uint = (n: number): number | bigint => (n > 0xffff_ffff ? BigInt(n) : n);

/** docs/protocol.md §3, restated independently of the codec: the plain array each message becomes. */
function documentedLayout(message: Message): unknown[] {
  const contact = (c: Contact): unknown[] => [
    Buffer.from(c.publicKey),
    Buffer.from(ipToBytes(c.host)),
    c.port,
  ];
  const record = (r: WireRecord): unknown[] => {
    const head = [Buffer.from(r.key), Buffer.from(r.value), r.ttlSeconds];
    if (!isSignedWireRecord(r)) return head;
    return [...head, Buffer.from(r.publicKey), uint(r.seq), Buffer.from(r.salt), Buffer.from(r.signature)];
  };
  const head = [message.type, message.requestId];
  switch (message.type) {
    case MessageType.PING:
      return head;
    case MessageType.PONG:
      return [...head, Buffer.from(ipToBytes(message.observed.host)), message.observed.port];
    case MessageType.FIND_NODE:
      return [...head, Buffer.from(message.target)];
    case MessageType.FIND_NODE_BY_DISTANCE:
      return [...head, [...message.distances]];
    case MessageType.NODES: {
      const fields = [...head, message.total, message.part, message.contacts.map(contact)];
      return message.token ? [...fields, Buffer.from(message.token)] : fields;
    }
    case MessageType.FIND_VALUE:
      return message.minSeq === undefined
        ? [...head, Buffer.from(message.key)]
        : [...head, Buffer.from(message.key), uint(message.minSeq)];
    case MessageType.VALUE:
      return [...head, record(message.record), Buffer.from(message.token)];
    case MessageType.STORE:
      return [...head, Buffer.from(message.token), record(message.record)];
    case MessageType.STORE_ACK:
      return [...head, message.status];
    case MessageType.ERROR:
      return message.message === undefined
        ? [...head, message.code]
        : [...head, message.code, message.message];
  }
}

function signedWire(overrides: Partial<SignedWireRecord> = {}): SignedWireRecord {
  return {
    key: b(20),
    value: b(5),
    ttlSeconds: 60,
    publicKey: b(32, 0x22),
    seq: 7,
    salt: b(3, 0x33),
    signature: b(64, 0x44),
    ...overrides,
  };
}

function reasonOf(result: DecodeResult): WireDropReason | 'ok' {
  return result.ok ? 'ok' : result.reason;
}

describe('codec', () => {
  it('decodes every valid message back to itself, and re-encodes it to the same bytes', () => {
    fc.assert(
      fc.property(messageArb, (message) => {
        const bytes = encodeMessage(message);
        const decoded = decodeMessage(bytes);
        if (!decoded.ok) throw new Error(`dropped as ${decoded.reason}`);
        // Compared as JSON (bytes as hex): the same check as a deep equal, without jest walking every byte.
        expect(messageToJson(decoded.message)).toEqual(messageToJson(message));
        expect(Buffer.from(encodeMessage(decoded.message)).equals(bytes)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('writes exactly what cbor-x writes for the documented array layout, and cbor-x reads it back', () => {
    fc.assert(
      fc.property(messageArb, (message) => {
        const bytes = encodeMessage(message);
        expect(Buffer.from(raw(documentedLayout(message))).equals(bytes)).toBe(true);
        expect(Buffer.from(raw(cborxDecode(bytes))).equals(bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps the largest STORE and VALUE of either record kind inside the encrypted layer's payload budget", () => {
    const budget = DEFAULTS.maxPacketBytes - INIT_OVERHEAD_BYTES;
    const token = b(16);
    const requestId = WIRE_LIMITS.maxRequestId;
    const ttlSeconds = WIRE_LIMITS.maxTtlSeconds;
    const immutable = { key: b(20), value: b(WIRE_LIMITS.maxValueBytes), ttlSeconds };
    const largestSigned = [
      signedWire({ value: b(836), salt: b(64), seq: WIRE_LIMITS.maxSeq, ttlSeconds }),
      signedWire({ value: b(900), salt: b(0), seq: WIRE_LIMITS.maxSeq, ttlSeconds }),
      signedWire({ value: b(876), salt: b(24), seq: WIRE_LIMITS.maxSeq, ttlSeconds }),
    ];
    const sizes = [immutable, ...largestSigned].flatMap((record) => [
      encodeMessage({ type: MessageType.STORE, requestId, token, record }).length,
      encodeMessage({ type: MessageType.VALUE, requestId, token, record }).length,
    ]);
    // docs/protocol.md §4 quotes these numbers.
    expect(sizes.slice(0, 2)).toEqual([1054, 1054]);
    expect(Math.max(...sizes.slice(2))).toBe(1065);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(budget);
    expect(budget).toBe(1108);
  });

  it('derives each contact ID from its public key instead of trusting the sender', () => {
    const bytes = raw([MessageType.NODES, 1, 1, 0, [contact()]]);
    const decoded = decodeMessage(bytes);
    expect(
      decoded.ok && decoded.message.type === MessageType.NODES && idToHex(decoded.message.contacts[0].id),
    ).toBe(idToHex(nodeIdFromPublicKey(pk)));
  });

  it('returns byte fields as plain Uint8Array copies that do not alias the packet', () => {
    const packet = Buffer.from(raw([MessageType.FIND_NODE, 5, b(20, 7)]));
    const decoded = decodeMessage(packet);
    packet.fill(0);
    expect(decoded.ok && decoded.message.type === MessageType.FIND_NODE && decoded.message.target).toEqual(
      b(20, 7),
    );
    expect(
      decoded.ok && decoded.message.type === MessageType.FIND_NODE && decoded.message.target.constructor,
    ).toBe(Uint8Array);
  });

  it('reads the IPv6 contact address in canonical text form', () => {
    const decoded = decodeMessage(
      raw([MessageType.NODES, 1, 1, 0, [contact(fromHex('20010db8000000000000000000000002'))]]),
    );
    expect(decoded.ok && decoded.message.type === MessageType.NODES && decoded.message.contacts[0].host).toBe(
      '2001:db8::2',
    );
  });

  describe('drops', () => {
    const cases: Array<[string, Uint8Array, WireDropReason]> = [
      ['an input over one packet', new Uint8Array(1_233), 'too_large'],
      ['an empty input', new Uint8Array(0), 'truncated'],
      ['a cut-off byte string', fromHex('83030754a0a1'), 'truncated'],
      ['a cut-off integer argument', fromHex('82011a0000'), 'truncated'],
      ['reserved additional information', fromHex('82011c'), 'cbor_invalid'],
      ['an indefinite-length integer', fromHex('82011f'), 'cbor_invalid'],
      ['a map', fromHex('a0'), 'cbor_unsupported'],
      ['a tag', fromHex('82 01 c1 01'), 'cbor_unsupported'],
      ['a tagged byte string (tag 64)', fromHex('83 03 07 d8 40 54' + 'ab'.repeat(20)), 'cbor_unsupported'],
      ['a float request ID', fromHex('82 01 f9 3c00'), 'cbor_unsupported'],
      ['a float that equals an integer', fromHex('82 01 fb 3ff0000000000000'), 'cbor_unsupported'],
      ['a negative integer', fromHex('82 01 20'), 'cbor_unsupported'],
      ['null', fromHex('82 01 f6'), 'cbor_unsupported'],
      ['an indefinite-length array', fromHex('9f 01 01 ff'), 'cbor_unsupported'],
      ['an indefinite-length byte string', fromHex('83 03 07 5f 44 abababab ff'), 'cbor_unsupported'],
      ['a 64-bit integer beyond 2^53', fromHex('82 01 1b 0020000000000000'), 'cbor_unsupported'],
      ['a request ID not in its shortest form', fromHex('82 01 18 01'), 'non_canonical'],
      ['an array length not in its shortest form', fromHex('98 02 01 01'), 'non_canonical'],
      ['a 4-byte integer that fits 2 bytes', fromHex('82 01 1a 0000ffff'), 'non_canonical'],
      [
        'a byte-string length not in its shortest form',
        fromHex('83 03 07 58 14' + 'ab'.repeat(20)),
        'non_canonical',
      ],
      ['bytes after the message', fromHex('820101 00'), 'trailing_bytes'],
      ['a bare integer', fromHex('01'), 'not_array'],
      ['a bare byte string', fromHex('4100'), 'not_array'],
      ['an empty array', fromHex('80'), 'wrong_field_count'],
      ['an unknown message type', raw([10, 1]), 'unknown_type'],
      ['a message type that is bytes', raw([b(1), 1]), 'unknown_type'],
      ['a PING with an extra field', raw([1, 1, 0]), 'wrong_field_count'],
      ['a PING without request ID', raw([1]), 'wrong_field_count'],
      ['a NODES with seven fields', raw([5, 1, 1, 0, [], b(16), 0]), 'wrong_field_count'],
      ['a NODES without its part index (the old layout)', raw([5, 1, 1, []]), 'wrong_field_count'],
      ['a request ID over 32 bits', fromHex('82 01 1b 0000000100000000'), 'bad_request_id'],
      ['a request ID that is bytes', raw([1, b(4)]), 'bad_request_id'],
      ['a 19-byte FIND_NODE target', raw([3, 1, b(19)]), 'bad_field'],
      ['a FIND_VALUE key that is text', raw([6, 1, 'k'.repeat(20)]), 'bad_field'],
      ['a PONG with a 5-byte address', raw([2, 1, b(5), 80]), 'bad_field'],
      ['a PONG with an IPv4-mapped address', raw([2, 1, mapped, 80]), 'bad_field'],
      ['a PONG with port 0', raw([2, 1, b(4), 0]), 'bad_field'],
      ['a PONG with port 65536', raw([2, 1, b(4), 65_536]), 'bad_field'],
      ['no distances', raw([4, 1, []]), 'bad_field'],
      ['nine distances', raw([4, 1, [1, 2, 3, 4, 5, 6, 7, 8, 9]]), 'bad_field'],
      ['a repeated distance', raw([4, 1, [3, 3]]), 'bad_field'],
      ['distance 161', raw([4, 1, [161]]), 'bad_field'],
      ['NODES total 0', raw([5, 1, 0, 0, []]), 'bad_field'],
      ['NODES total 9', raw([5, 1, 9, 0, []]), 'bad_field'],
      ['NODES part equal to total', raw([5, 1, 2, 2, []]), 'bad_field'],
      ['NODES part 8', raw([5, 1, 8, 8, []]), 'bad_field'],
      ['NODES part that is bytes', raw([5, 1, 1, b(1), []]), 'bad_field'],
      ['NODES contacts that are not an array', raw([5, 1, 1, 0, b(3)]), 'bad_field'],
      ['21 contacts', raw([5, 1, 1, 0, Array.from({ length: 21 }, () => contact())]), 'too_many_contacts'],
      ['a contact with two fields', raw([5, 1, 1, 0, [[pk, b(4)]]]), 'bad_contact'],
      ['a contact with a 31-byte key', raw([5, 1, 1, 0, [[b(31), b(4), 1]]]), 'bad_contact'],
      ['a contact with an IPv4-mapped address', raw([5, 1, 1, 0, [contact(mapped)]]), 'bad_contact'],
      ['a contact with port 0', raw([5, 1, 1, 0, [contact(undefined, 0)]]), 'bad_contact'],
      ['a contact that is bytes', raw([5, 1, 1, 0, [b(40)]]), 'bad_contact'],
      ['a NODES token of 15 bytes', raw([5, 1, 1, 0, [], b(15)]), 'bad_token'],
      ['a VALUE token of 17 bytes', raw([7, 1, record(), b(17)]), 'bad_token'],
      ['a STORE token that is text', raw([8, 1, 't'.repeat(16), record()]), 'bad_token'],
      ['a record key of 21 bytes', raw([8, 1, b(16), record(b(21))]), 'bad_record'],
      ['a record value that is text', raw([8, 1, b(16), [b(20), 'text', 60]]), 'bad_record'],
      [
        'a record TTL over 48 h',
        raw([8, 1, b(16), record(undefined, undefined, 48 * 3600 + 1)]),
        'bad_record',
      ],
      ['a record with four fields', raw([8, 1, b(16), [...record(), 0]]), 'bad_record'],
      ['a 1001-byte value', raw([8, 1, b(16), record(undefined, b(1_001))]), 'value_too_large'],
      ['a record with six fields', raw([8, 1, b(16), signedRecord().slice(0, 6)]), 'bad_record'],
      ['a record with eight fields', raw([8, 1, b(16), [...signedRecord(), 0]]), 'bad_record'],
      [
        'a signed record with a 31-byte public key',
        raw([7, 1, signedRecord({ publicKey: b(31) }), b(16)]),
        'bad_record',
      ],
      [
        'a signed record whose public key is text',
        raw([8, 1, b(16), signedRecord({ publicKey: 'k'.repeat(32) })]),
        'bad_record',
      ],
      [
        'a signed record with a 63-byte signature',
        raw([8, 1, b(16), signedRecord({ signature: b(63) })]),
        'bad_record',
      ],
      [
        'a signed record with a 65-byte signature',
        raw([7, 1, signedRecord({ signature: b(65) }), b(16)]),
        'bad_record',
      ],
      [
        'a signed record with a 65-byte salt',
        raw([8, 1, b(16), signedRecord({ salt: b(65) })]),
        'bad_record',
      ],
      [
        'a signed record whose salt is text',
        raw([8, 1, b(16), signedRecord({ salt: 'salt' })]),
        'bad_record',
      ],
      ['a signed record whose seq is bytes', raw([8, 1, b(16), signedRecord({ seq: b(8) })]), 'bad_record'],
      [
        'a signed record with seq 2^53',
        fromHex(
          '84 08 01 50' +
            'ab'.repeat(16) +
            '87 54' +
            'ab'.repeat(20) +
            '45 0102030405 18 3c 58 20' +
            '22'.repeat(32) +
            '1b 0020000000000000 40 58 40' +
            '44'.repeat(64),
        ),
        'cbor_unsupported',
      ],
      [
        'a signed record with a seq not in its shortest form',
        fromHex(
          '84 08 01 50' +
            'ab'.repeat(16) +
            '87 54' +
            'ab'.repeat(20) +
            '45 0102030405 18 3c 58 20' +
            '22'.repeat(32) +
            '18 07 40 58 40' +
            '44'.repeat(64),
        ),
        'non_canonical',
      ],
      [
        'a signed record with a 901-byte value',
        raw([8, 1, b(16), signedRecord({ value: b(901), salt: b(0) })]),
        'value_too_large',
      ],
      [
        'a signed record with value 880 and salt 21',
        raw([8, 1, b(16), signedRecord({ value: b(880), salt: b(21) })]),
        'value_too_large',
      ],
      [
        'a signed record with a 1001-byte value',
        raw([7, 1, signedRecord({ value: b(1_001) }), b(16)]),
        'value_too_large',
      ],
      ['a FIND_VALUE with a text minSeq', raw([6, 1, b(20), '1']), 'bad_field'],
      [
        'a FIND_VALUE with minSeq 2^53',
        fromHex('84 06 01 54' + 'ab'.repeat(20) + '1b 0020000000000000'),
        'cbor_unsupported',
      ],
      ['a FIND_VALUE with five fields', raw([6, 1, b(20), 1, 1]), 'wrong_field_count'],
      ['an unknown STORE_ACK status', raw([9, 1, 9]), 'bad_field'],
      ['an unknown ERROR code', raw([15, 1, 4]), 'bad_field'],
      ['ERROR text of 201 bytes', raw([15, 1, 0, 'x'.repeat(201)]), 'bad_field'],
      ['ERROR text that is not UTF-8', fromHex('84 0f 01 00 62 c328'), 'bad_field'],
      ['ERROR text that is bytes', raw([15, 1, 0, b(3)]), 'bad_field'],
    ];
    it.each(cases.map(([name, bytes, reason]) => [name, reason, bytes] as const))(
      '%s: %s',
      (_name, reason, bytes) => {
        expect(reasonOf(decodeMessage(bytes))).toBe(reason);
        expect(WIRE_DROP_REASONS).toContain(reason);
      },
    );

    it('accepts the boundary cases next to those drops', () => {
      const accepted = [
        raw([1, 2 ** 32 - 1]),
        raw([4, 1, [0, 160, 1, 2, 3, 4, 5, 6]]),
        raw([5, 1, 8, 7, Array.from({ length: 20 }, () => contact())]),
        raw([9, 1, 5]),
        raw([9, 1, 6]),
        raw([9, 1, 7]),
        raw([9, 1, 8]),
        raw([6, 1, b(20), 0]),
        raw([6, 1, b(20), uint(Number.MAX_SAFE_INTEGER)]),
        raw([8, 1, b(16), signedRecord({ value: b(900), salt: b(0) })]),
        raw([8, 1, b(16), signedRecord({ value: b(836), salt: b(64), seq: uint(Number.MAX_SAFE_INTEGER) })]),
        raw([7, 1, signedRecord({ value: b(0), salt: b(0), seq: 0 }), b(16)]),
        raw([8, 1, b(16), record(undefined, b(1_000), 48 * 3600)]),
        raw([2, 1, b(4), 65_535]),
        raw([15, 1, 0, 'x'.repeat(200)]),
        raw([15, 1, 0, 'é'.repeat(100)]),
      ];
      for (const bytes of accepted) expect(reasonOf(decodeMessage(bytes))).toBe('ok');
    });
  });

  describe('refuses to encode what receivers would drop', () => {
    const invalid: Array<[string, Message]> = [
      ['a negative request ID', { type: MessageType.PING, requestId: -1 }],
      ['a fractional request ID', { type: MessageType.PING, requestId: 1.5 }],
      ['a request ID over 32 bits', { type: MessageType.PING, requestId: 2 ** 32 }],
      ['a short target', { type: MessageType.FIND_NODE, requestId: 1, target: b(19) }],
      ['a hostname', { type: MessageType.PONG, requestId: 1, observed: { host: 'example.org', port: 1 } }],
      ['port 0', { type: MessageType.PONG, requestId: 1, observed: { host: '10.0.0.1', port: 0 } }],
      ['no distances', { type: MessageType.FIND_NODE_BY_DISTANCE, requestId: 1, distances: [] }],
      ['duplicate distances', { type: MessageType.FIND_NODE_BY_DISTANCE, requestId: 1, distances: [2, 2] }],
      ['distance 161', { type: MessageType.FIND_NODE_BY_DISTANCE, requestId: 1, distances: [161] }],
      ['NODES total 0', { type: MessageType.NODES, requestId: 1, total: 0, part: 0, contacts: [] }],
      [
        'NODES part equal to total',
        { type: MessageType.NODES, requestId: 1, total: 2, part: 2, contacts: [] },
      ],
      ['NODES part -1', { type: MessageType.NODES, requestId: 1, total: 2, part: -1, contacts: [] }],
      [
        'NODES without a part index',
        { type: MessageType.NODES, requestId: 1, total: 1, contacts: [] } as unknown as Message,
      ],
      [
        '21 contacts',
        {
          type: MessageType.NODES,
          requestId: 1,
          total: 1,
          part: 0,
          contacts: Array.from({ length: 21 }, () => ({
            id: b(20),
            publicKey: pk,
            host: '10.0.0.1',
            port: 1,
          })),
        },
      ],
      [
        'a contact key of 33 bytes',
        {
          type: MessageType.NODES,
          requestId: 1,
          total: 1,
          part: 0,
          contacts: [{ id: b(20), publicKey: b(33), host: '10.0.0.1', port: 1 }],
        },
      ],
      [
        'a 15-byte token',
        { type: MessageType.NODES, requestId: 1, total: 1, part: 0, contacts: [], token: b(15) },
      ],
      [
        'a 1001-byte value',
        {
          type: MessageType.STORE,
          requestId: 1,
          token: b(16),
          record: { key: b(20), value: b(1_001), ttlSeconds: 1 },
        },
      ],
      [
        'a TTL over 48 h',
        {
          type: MessageType.VALUE,
          requestId: 1,
          token: b(16),
          record: { key: b(20), value: b(1), ttlSeconds: 48 * 3600 + 1 },
        },
      ],
      ['an unknown status', { type: MessageType.STORE_ACK, requestId: 1, status: 9 as StoreStatus }],
      ['a negative minSeq', { type: MessageType.FIND_VALUE, requestId: 1, key: b(20), minSeq: -1 }],
      ['a minSeq of 2^53', { type: MessageType.FIND_VALUE, requestId: 1, key: b(20), minSeq: 2 ** 53 }],
      [
        'a signed record with value and salt over 900 bytes',
        {
          type: MessageType.STORE,
          requestId: 1,
          token: b(16),
          record: signedWire({ value: b(850), salt: b(51) }),
        },
      ],
      [
        'a signed record with a 65-byte salt',
        { type: MessageType.STORE, requestId: 1, token: b(16), record: signedWire({ salt: b(65) }) },
      ],
      [
        'a signed record with a 31-byte public key',
        { type: MessageType.VALUE, requestId: 1, token: b(16), record: signedWire({ publicKey: b(31) }) },
      ],
      [
        'a signed record with a 63-byte signature',
        { type: MessageType.VALUE, requestId: 1, token: b(16), record: signedWire({ signature: b(63) }) },
      ],
      [
        'a signed record with a fractional seq',
        { type: MessageType.STORE, requestId: 1, token: b(16), record: signedWire({ seq: 1.5 }) },
      ],
      ['an unknown error code', { type: MessageType.ERROR, requestId: 1, code: 9 as RemoteErrorCode }],
      [
        'error text of 201 bytes',
        { type: MessageType.ERROR, requestId: 1, code: 0, message: 'x'.repeat(201) },
      ],
      [
        'error text with a lone surrogate',
        { type: MessageType.ERROR, requestId: 1, code: 0, message: 'a\ud800' },
      ],
      ['an unknown type', { type: 99, requestId: 1 } as unknown as Message],
    ];
    it.each(invalid)('%s', (_name, message) => {
      expect(() => encodeMessage(message)).toThrow(expect.objectContaining({ code: 'WIRE_MALFORMED' }));
    });
  });
});
