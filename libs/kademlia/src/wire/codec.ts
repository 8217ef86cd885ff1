import { KademliaError } from '../errors';
import { nodeIdFromPublicKey } from '../id/key-id';
import type { Contact } from '../routing/contact';
import type { Endpoint } from '../transport/transport';
import { CborFailure, CborReader, MajorType } from './cbor-reader';
import { CborWriter } from './cbor-writer';
import { bytesToIp, ipToBytes, isIPv4MappedBytes, IPV4_BYTES, IPV6_BYTES, wireIpBytes } from './ip-address';
import {
  MessageType,
  RemoteErrorCode,
  StoreStatus,
  type Message,
  type FindValueMessage,
  type NodesMessage,
  type SignedWireRecord,
  type WireRecord,
  isSignedWireRecord,
} from './messages';
import { WIRE_LIMITS } from './wire-limits';

/**
 * Messages to bytes and back. Each message is one CBOR array `[type, requestId, ...fields]`; the exact
 * layout, bounds and golden vectors are in docs/protocol.md. The encoder refuses to send what the decoder
 * would refuse to accept, so a bug shows up at the sender, not as silent drops at every receiver.
 */

/** Why an inbound payload was dropped; a closed set so each can be a metric label. */
export const WIRE_DROP_REASONS = [
  'too_large',
  'truncated',
  'cbor_invalid',
  'cbor_unsupported',
  'non_canonical',
  'trailing_bytes',
  'not_array',
  'unknown_type',
  'wrong_field_count',
  'bad_request_id',
  'bad_field',
  'bad_token',
  'too_many_contacts',
  'bad_contact',
  'bad_record',
  'value_too_large',
] as const;
export type WireDropReason = (typeof WIRE_DROP_REASONS)[number];

export type DecodeResult = { ok: true; message: Message } | { ok: false; reason: WireDropReason };

const STORE_STATUSES = new Set<number>(
  Object.values(StoreStatus).filter((v): v is number => typeof v === 'number'),
);
const REMOTE_ERROR_CODES = new Set<number>(
  Object.values(RemoteErrorCode).filter((v): v is number => typeof v === 'number'),
);

/** Field count of each message type, including type and requestId; [min, max] for optional fields. */
const FIELD_COUNTS: Readonly<Record<MessageType, readonly [number, number]>> = {
  [MessageType.PING]: [2, 2],
  [MessageType.PONG]: [4, 4],
  [MessageType.FIND_NODE]: [3, 3],
  [MessageType.FIND_NODE_BY_DISTANCE]: [3, 3],
  [MessageType.NODES]: [5, 6],
  [MessageType.FIND_VALUE]: [3, 4],
  [MessageType.VALUE]: [4, 4],
  [MessageType.STORE]: [4, 4],
  [MessageType.STORE_ACK]: [3, 3],
  [MessageType.ERROR]: [3, 4],
};

// ---- Encoding ---------------------------------------------------------------------------------

// Encoding is synchronous and single-threaded, so one scratch buffer serves every message.
const writer = new CborWriter(WIRE_LIMITS.maxMessageBytes);

/** The CBOR bytes of a message. Throws WIRE_MALFORMED for invalid fields, WIRE_TOO_LARGE past one packet. */
export function encodeMessage(message: Message): Uint8Array {
  try {
    writeMessage(writer, message);
    return writer.finish();
  } catch (err) {
    writer.reset();
    throw err;
  }
}

function writeMessage(w: CborWriter, message: Message): void {
  const requestId = checkRequestId(message.requestId);
  const start = (fields: number): void => {
    w.arrayHead(fields);
    w.uint(message.type);
    w.uint(requestId);
  };
  switch (message.type) {
    case MessageType.PING:
      start(2);
      return;
    case MessageType.PONG:
      start(4);
      w.bytes(ipToBytes(message.observed.host));
      w.uint(checkPort(message.observed.port));
      return;
    case MessageType.FIND_NODE:
      start(3);
      w.bytes(checkBytes(message.target, WIRE_LIMITS.idBytes, 'target'));
      return;
    case MessageType.FIND_NODE_BY_DISTANCE: {
      const distances = checkDistances(message.distances);
      start(3);
      w.arrayHead(distances.length);
      for (const d of distances) w.uint(d);
      return;
    }
    case MessageType.NODES:
      return writeNodes(w, message, start);
    case MessageType.FIND_VALUE:
      return writeFindValue(w, message, start);
    case MessageType.VALUE:
      start(4);
      writeRecord(w, message.record);
      w.bytes(checkBytes(message.token, WIRE_LIMITS.tokenBytes, 'token'));
      return;
    case MessageType.STORE:
      start(4);
      w.bytes(checkBytes(message.token, WIRE_LIMITS.tokenBytes, 'token'));
      writeRecord(w, message.record);
      return;
    case MessageType.STORE_ACK:
      check(STORE_STATUSES.has(message.status), 'unknown store status', message.status);
      start(3);
      w.uint(message.status);
      return;
    case MessageType.ERROR: {
      check(REMOTE_ERROR_CODES.has(message.code), 'unknown remote error code', message.code);
      if (message.message === undefined) {
        start(3);
        w.uint(message.code);
        return;
      }
      const textBytes = checkErrorText(message.message);
      start(4);
      w.uint(message.code);
      w.text(message.message, textBytes);
      return;
    }
    default:
      throw malformed('unknown message type', (message as { type: unknown }).type);
  }
}

function writeNodes(w: CborWriter, message: NodesMessage, start: (fields: number) => void): void {
  const { total, part, contacts, token } = message;
  check(isUintInRange(total, 1, WIRE_LIMITS.maxNodesParts), 'NODES total out of range', total);
  check(isUintInRange(part, 0, total - 1), 'NODES part not below total', part);
  check(Array.isArray(contacts), 'NODES contacts is not an array', typeof contacts);
  check(contacts.length <= WIRE_LIMITS.maxContactsPerNodes, 'too many contacts', contacts.length);
  start(token === undefined ? 5 : 6);
  w.uint(total);
  w.uint(part);
  w.arrayHead(contacts.length);
  for (const contact of contacts) writeContact(w, contact);
  if (token !== undefined) w.bytes(checkBytes(token, WIRE_LIMITS.tokenBytes, 'token'));
}

/** A contact travels without its ID: receivers derive it from the public key, so it cannot be forged. */
function writeContact(w: CborWriter, contact: Contact): void {
  w.arrayHead(3);
  w.bytes(checkBytes(contact.publicKey, WIRE_LIMITS.publicKeyBytes, 'contact publicKey'));
  w.bytes(contact.addressBytes ?? wireIpBytes(contact.host));
  w.uint(checkPort(contact.port));
}

function writeFindValue(w: CborWriter, message: FindValueMessage, start: (fields: number) => void): void {
  const { key, minSeq } = message;
  if (minSeq !== undefined) {
    check(isUintInRange(minSeq, 0, WIRE_LIMITS.maxSeq), 'minSeq out of range', minSeq);
  }
  start(minSeq === undefined ? 3 : 4);
  w.bytes(checkBytes(key, WIRE_LIMITS.idBytes, 'key'));
  if (minSeq !== undefined) w.uint(minSeq);
}

/** `[key, value, ttl]` for an immutable record, `[key, value, ttl, publicKey, seq, salt, signature]` for a signed one. */
function writeRecord(w: CborWriter, record: WireRecord): void {
  check(
    record.value instanceof Uint8Array && record.value.length <= WIRE_LIMITS.maxValueBytes,
    'record value missing or too large',
    record.value?.length,
  );
  check(
    isUintInRange(record.ttlSeconds, 0, WIRE_LIMITS.maxTtlSeconds),
    'record ttl out of range',
    record.ttlSeconds,
  );
  const signed = isSignedWireRecord(record);
  if (signed) checkSignedFields(record);
  w.arrayHead(signed ? 7 : 3);
  w.bytes(checkBytes(record.key, WIRE_LIMITS.idBytes, 'record key'));
  w.bytes(record.value);
  w.uint(record.ttlSeconds);
  if (!signed) return;
  w.bytes(record.publicKey);
  w.uint(record.seq);
  w.bytes(record.salt);
  w.bytes(record.signature);
}

function checkSignedFields(record: SignedWireRecord): void {
  checkBytes(record.publicKey, WIRE_LIMITS.signingKeyBytes, 'record publicKey');
  checkBytes(record.signature, WIRE_LIMITS.signatureBytes, 'record signature');
  check(isUintInRange(record.seq, 0, WIRE_LIMITS.maxSeq), 'record seq out of range', record.seq);
  check(
    record.salt instanceof Uint8Array && record.salt.length <= WIRE_LIMITS.maxSaltBytes,
    'record salt missing or too long',
    record.salt?.length,
  );
  check(
    record.value.length + record.salt.length <= WIRE_LIMITS.maxSignedValueBytes,
    'signed record value and salt too large',
    record.value.length + record.salt.length,
  );
}

function checkRequestId(requestId: number): number {
  check(isUintInRange(requestId, 0, WIRE_LIMITS.maxRequestId), 'requestId is not a uint32', requestId);
  return requestId;
}

function checkPort(port: number): number {
  check(isUintInRange(port, 1, 65_535), 'port out of range', port);
  return port;
}

function checkBytes(value: Uint8Array, length: number, what: string): Uint8Array {
  check(
    value instanceof Uint8Array && value.length === length,
    `${what} must be ${length} bytes`,
    value?.length,
  );
  return value;
}

function checkDistances(distances: readonly number[]): readonly number[] {
  check(
    Array.isArray(distances) && distances.length >= 1 && distances.length <= WIRE_LIMITS.maxDistances,
    `distances must hold 1..${WIRE_LIMITS.maxDistances} entries`,
    distances?.length,
  );
  check(new Set(distances).size === distances.length, 'duplicate distance', distances.join(','));
  for (const d of distances) check(isUintInRange(d, 0, WIRE_LIMITS.maxDistance), 'distance out of range', d);
  return distances;
}

// A lone surrogate has no UTF-8 form (encoders write U+FFFD or WTF-8 bytes); refuse it rather than guess.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Returns the text's UTF-8 length, which the writer needs for the head. */
function checkErrorText(text: string): number {
  check(
    typeof text === 'string' && !LONE_SURROGATE.test(text),
    'error text is not valid Unicode',
    typeof text,
  );
  const bytes = Buffer.byteLength(text, 'utf8');
  check(bytes <= WIRE_LIMITS.maxErrorTextBytes, 'error text too long', bytes);
  return bytes;
}

function isUintInRange(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function check(condition: boolean, problem: string, value: unknown): asserts condition {
  if (!condition) throw malformed(problem, value);
}

function malformed(problem: string, value: unknown): KademliaError {
  return new KademliaError(`cannot encode message: ${problem}`, 'WIRE_MALFORMED', { value });
}

// ---- Decoding ---------------------------------------------------------------------------------

/** Thrown by field readers below and caught in decodeMessage; no stack trace, junk must stay cheap. */
class FieldFailure {
  constructor(readonly reason: WireDropReason) {}
}

/**
 * Parses and validates one message. Never throws: any input yields a message or a drop reason. Byte
 * fields of the result are copies, so keeping a decoded message does not pin the packet buffer.
 */
export function decodeMessage(bytes: Uint8Array): DecodeResult {
  if (bytes.length > WIRE_LIMITS.maxMessageBytes) return { ok: false, reason: 'too_large' };
  try {
    const reader = new CborReader(bytes);
    const message = readMessage(reader);
    if (!reader.atEnd) return { ok: false, reason: 'trailing_bytes' };
    return { ok: true, message };
  } catch (err) {
    if (err instanceof FieldFailure || err instanceof CborFailure) return { ok: false, reason: err.reason };
    // Unreachable by design; still a drop, never an exception out of the hot path.
    return { ok: false, reason: 'cbor_invalid' };
  }
}

function readMessage(reader: CborReader): Message {
  const top = reader.readHead();
  if (top.major !== MajorType.ARRAY) throw new FieldFailure('not_array');
  if (top.value === 0) throw new FieldFailure('wrong_field_count');
  const typeHead = reader.readHead();
  const type = typeHead.value as MessageType;
  if (typeHead.major !== MajorType.UINT || !Object.hasOwn(FIELD_COUNTS, type)) {
    throw new FieldFailure('unknown_type');
  }
  const [minFields, maxFields] = FIELD_COUNTS[type];
  if (top.value < minFields || top.value > maxFields) throw new FieldFailure('wrong_field_count');
  const requestId = readUint(reader, WIRE_LIMITS.maxRequestId, 'bad_request_id');

  switch (type) {
    case MessageType.PING:
      return { type, requestId };
    case MessageType.PONG: {
      const host = readIp(reader, 'bad_field');
      const port = readPort(reader, 'bad_field');
      return { type, requestId, observed: { host, port } satisfies Endpoint };
    }
    case MessageType.FIND_NODE:
      return { type, requestId, target: readFixedBytes(reader, WIRE_LIMITS.idBytes, 'bad_field') };
    case MessageType.FIND_NODE_BY_DISTANCE:
      return { type, requestId, distances: readDistances(reader) };
    case MessageType.NODES:
      return readNodes(reader, requestId, top.value === 6);
    case MessageType.FIND_VALUE: {
      const key = readFixedBytes(reader, WIRE_LIMITS.idBytes, 'bad_field');
      if (top.value === 3) return { type, requestId, key };
      return { type, requestId, key, minSeq: readUint(reader, WIRE_LIMITS.maxSeq, 'bad_field') };
    }
    case MessageType.VALUE: {
      const record = readRecord(reader);
      return { type, requestId, record, token: readFixedBytes(reader, WIRE_LIMITS.tokenBytes, 'bad_token') };
    }
    case MessageType.STORE: {
      const token = readFixedBytes(reader, WIRE_LIMITS.tokenBytes, 'bad_token');
      return { type, requestId, token, record: readRecord(reader) };
    }
    case MessageType.STORE_ACK: {
      const status = readUint(reader, 0xff, 'bad_field');
      if (!STORE_STATUSES.has(status)) throw new FieldFailure('bad_field');
      return { type, requestId, status };
    }
    case MessageType.ERROR: {
      const code = readUint(reader, 0xff, 'bad_field');
      if (!REMOTE_ERROR_CODES.has(code)) throw new FieldFailure('bad_field');
      if (top.value === 3) return { type, requestId, code };
      return { type, requestId, code, message: readErrorText(reader) };
    }
  }
}

function readNodes(reader: CborReader, requestId: number, hasToken: boolean): NodesMessage {
  const total = readUint(reader, WIRE_LIMITS.maxNodesParts, 'bad_field');
  if (total < 1) throw new FieldFailure('bad_field');
  const part = readUint(reader, WIRE_LIMITS.maxNodesParts - 1, 'bad_field');
  if (part >= total) throw new FieldFailure('bad_field');
  const list = reader.readHead();
  if (list.major !== MajorType.ARRAY) throw new FieldFailure('bad_field');
  if (list.value > WIRE_LIMITS.maxContactsPerNodes) throw new FieldFailure('too_many_contacts');
  const contacts: Contact[] = [];
  for (let i = 0; i < list.value; i++) contacts.push(readContact(reader));
  if (!hasToken) return { type: MessageType.NODES, requestId, total, part, contacts };
  const token = readFixedBytes(reader, WIRE_LIMITS.tokenBytes, 'bad_token');
  return { type: MessageType.NODES, requestId, total, part, contacts, token };
}

function readContact(reader: CborReader): Contact {
  const head = reader.readHead();
  if (head.major !== MajorType.ARRAY || head.value !== 3) throw new FieldFailure('bad_contact');
  const publicKey = readFixedBytes(reader, WIRE_LIMITS.publicKeyBytes, 'bad_contact');
  const host = readIp(reader, 'bad_contact');
  const port = readPort(reader, 'bad_contact');
  return { id: nodeIdFromPublicKey(publicKey), publicKey, host, port };
}

/**
 * A 3-item (immutable) or 7-item (signed) record. Shapes and sizes only: a signature costs a public-key
 * operation, so the store handler verifies it after the token check and a reader on receiving a VALUE.
 */
function readRecord(reader: CborReader): WireRecord {
  const head = reader.readHead();
  if (head.major !== MajorType.ARRAY || (head.value !== 3 && head.value !== 7)) {
    throw new FieldFailure('bad_record');
  }
  const key = readFixedBytes(reader, WIRE_LIMITS.idBytes, 'bad_record');
  const valueHead = reader.readHead();
  if (valueHead.major !== MajorType.BYTES) throw new FieldFailure('bad_record');
  if (valueHead.value > WIRE_LIMITS.maxValueBytes) throw new FieldFailure('value_too_large');
  const value = reader.takeBytes(valueHead.value);
  const ttlSeconds = readUint(reader, WIRE_LIMITS.maxTtlSeconds, 'bad_record');
  if (head.value === 3) return { key, value, ttlSeconds };
  const publicKey = readFixedBytes(reader, WIRE_LIMITS.signingKeyBytes, 'bad_record');
  const seq = readUint(reader, WIRE_LIMITS.maxSeq, 'bad_record');
  const saltHead = reader.readHead();
  if (saltHead.major !== MajorType.BYTES || saltHead.value > WIRE_LIMITS.maxSaltBytes) {
    throw new FieldFailure('bad_record');
  }
  const salt = reader.takeBytes(saltHead.value);
  const signature = readFixedBytes(reader, WIRE_LIMITS.signatureBytes, 'bad_record');
  if (value.length + salt.length > WIRE_LIMITS.maxSignedValueBytes) throw new FieldFailure('value_too_large');
  return { key, value, ttlSeconds, publicKey, seq, salt, signature };
}

function readDistances(reader: CborReader): number[] {
  const head = reader.readHead();
  if (head.major !== MajorType.ARRAY || head.value < 1 || head.value > WIRE_LIMITS.maxDistances) {
    throw new FieldFailure('bad_field');
  }
  const distances: number[] = [];
  for (let i = 0; i < head.value; i++) {
    const d = readUint(reader, WIRE_LIMITS.maxDistance, 'bad_field');
    if (distances.includes(d)) throw new FieldFailure('bad_field');
    distances.push(d);
  }
  return distances;
}

function readErrorText(reader: CborReader): string {
  const head = reader.readHead();
  if (head.major !== MajorType.TEXT || head.value > WIRE_LIMITS.maxErrorTextBytes) {
    throw new FieldFailure('bad_field');
  }
  const text = reader.takeText(head.value);
  if (text === null) throw new FieldFailure('bad_field');
  return text;
}

function readUint(reader: CborReader, max: number, reason: WireDropReason): number {
  const head = reader.readHead();
  if (head.major !== MajorType.UINT || head.value > max) throw new FieldFailure(reason);
  return head.value;
}

function readPort(reader: CborReader, reason: WireDropReason): number {
  const port = readUint(reader, 65_535, reason);
  if (port === 0) throw new FieldFailure(reason);
  return port;
}

function readFixedBytes(reader: CborReader, length: number, reason: WireDropReason): Uint8Array {
  const head = reader.readHead();
  if (head.major !== MajorType.BYTES || head.value !== length) throw new FieldFailure(reason);
  return reader.takeBytes(length);
}

/** 4 or 16 bytes; an IPv4-mapped IPv6 address must travel as its 4-byte IPv4 form (one encoding each). */
function readIp(reader: CborReader, reason: WireDropReason): string {
  const head = reader.readHead();
  if (head.major !== MajorType.BYTES || (head.value !== IPV4_BYTES && head.value !== IPV6_BYTES)) {
    throw new FieldFailure(reason);
  }
  const ip = reader.viewBytes(head.value);
  if (isIPv4MappedBytes(ip)) throw new FieldFailure(reason);
  return bytesToIp(ip);
}
