import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES } from '../crypto/aead';
import { COOKIE_BYTES, COOKIE_MAC_BYTES } from '../crypto/cookies';
import { X25519_KEY_BYTES } from '../crypto/x25519';
import { COMMON_HEADER_BYTES, writePacketHeader } from './packet-header';
import type { SessionDropReason } from './session-layer';

/**
 * Byte layouts of the encrypted session layer's packets (docs/protocol-sessions.md §2). Only encoding and
 * length checks live here; what the fields mean is handshake.ts's and encrypted-session.ts's business.
 * Integers are big-endian; every offset below counts from the first byte of the 4-byte common header.
 */
export const EncryptedPacketType = {
  INIT: 0x01,
  RESP: 0x02,
  DATA: 0x03,
  COOKIE: 0x04,
  HELLO: 0x05,
  KEY: 0x06,
  UNKNOWN_SESSION: 0x07,
} as const;

/** Flags inside the encrypted handshake payloads; unknown bits must be zero. */
export const SessionFlags = {
  /** The sender queries but must not be put into routing tables. */
  CLIENT_MODE: 0x01,
  /** RESP only: replies wait for proof of the initiator's address; send any DATA (an empty one will do). */
  CONFIRM_REQUESTED: 0x02,
} as const;

const KEY = X25519_KEY_BYTES;
const TAG = AEAD_TAG_BYTES;
const H = COMMON_HEADER_BYTES;

// INIT: header | sender index u32 | attempt u8 | ephemeral 32 | encrypted static 48 | encrypted body | cookie MAC 16
export const INIT_SENDER_INDEX = H;
export const INIT_ATTEMPT = H + 4;
export const INIT_EPHEMERAL = H + 5;
export const INIT_STATIC = INIT_EPHEMERAL + KEY;
export const INIT_BODY = INIT_STATIC + KEY + TAG;
/** Plaintext of the INIT body before the payload: flags u8 | payload length u16. Padding follows the payload. */
export const INIT_BODY_PREFIX_BYTES = 3;
export const INIT_OVERHEAD_BYTES = INIT_BODY + INIT_BODY_PREFIX_BYTES + TAG + COOKIE_MAC_BYTES;
/**
 * INITs shorter than this are refused, and initiators pad up to it: three times it covers a full 1232-byte
 * RESP, so a responder can answer an unvalidated address in one packet without amplifying (QUIC pads its
 * Initial packets for the same reason). ceil(1232 / 3) = 411.
 */
export const INIT_MIN_BYTES = 411;

// RESP: header | receiver index u32 | sender index u32 | attempt u8 | ephemeral 32 | encrypted (flags u8 | payload)
export const RESP_RECEIVER_INDEX = H;
export const RESP_SENDER_INDEX = H + 4;
export const RESP_ATTEMPT = H + 8;
export const RESP_EPHEMERAL = H + 9;
export const RESP_BODY = RESP_EPHEMERAL + KEY;
export const RESP_OVERHEAD_BYTES = RESP_BODY + 1 + TAG;

// DATA: header | receiver index u32 | counter u64 | encrypted payload. The 16 header bytes are the AEAD's AD.
export const DATA_RECEIVER_INDEX = H;
export const DATA_COUNTER = H + 4;
export const DATA_HEADER_BYTES = H + 12;
export const DATA_OVERHEAD_BYTES = DATA_HEADER_BYTES + TAG;

// COOKIE: header | receiver index u32 | nonce 12 | encrypted cookie 16
export const COOKIE_RECEIVER_INDEX = H;
export const COOKIE_NONCE = H + 4;
export const COOKIE_BODY = COOKIE_NONCE + AEAD_NONCE_BYTES;
export const COOKIE_PACKET_BYTES = COOKIE_BODY + COOKIE_BYTES + TAG;

// HELLO: header | nonce 8 | 32 zero bytes.  KEY: header | nonce 8 | static public key 32.
// Same size both ways: the key reply never amplifies.
export const HELLO_NONCE = H;
export const HELLO_NONCE_BYTES = 8;
export const KEY_PUBLIC_KEY = HELLO_NONCE + HELLO_NONCE_BYTES;
export const HELLO_PACKET_BYTES = KEY_PUBLIC_KEY + KEY;
export const KEY_PACKET_BYTES = HELLO_PACKET_BYTES;

// UNKNOWN_SESSION: header | the receiver index of the DATA u32 | its counter u64. Half a DATA's minimum size.
export const UNKNOWN_SESSION_INDEX = H;
export const UNKNOWN_SESSION_COUNTER = H + 4;
export const UNKNOWN_SESSION_PACKET_BYTES = H + 12;

export function readU32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0
  );
}

export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

/** A u64 counter; values above Number.MAX_SAFE_INTEGER come back as -1 (no session ever gets there). */
export function readCounter(bytes: Uint8Array, offset: number): number {
  const high = readU32(bytes, offset);
  if (high > 0x1f_ffff) return -1;
  return high * 0x1_0000_0000 + readU32(bytes, offset + 4);
}

export function writeCounter(bytes: Uint8Array, offset: number, value: number): void {
  writeU32(bytes, offset, Math.floor(value / 0x1_0000_0000));
  writeU32(bytes, offset + 4, value >>> 0);
}

/** The INIT body plaintext: flags, payload length, payload, zero padding up to `paddedLength`. */
export function initBodyPlaintext(flags: number, payload: Uint8Array, paddedLength: number): Uint8Array {
  const body = new Uint8Array(Math.max(paddedLength, INIT_BODY_PREFIX_BYTES + payload.length));
  body[0] = flags;
  body[1] = payload.length >>> 8;
  body[2] = payload.length & 0xff;
  body.set(payload, INIT_BODY_PREFIX_BYTES);
  return body;
}

/** Plaintext body length that makes an INIT carrying `payloadBytes` exactly INIT_MIN_BYTES long, or longer. */
export function initBodyLengthFor(payloadBytes: number): number {
  const unpadded = INIT_BODY_PREFIX_BYTES + payloadBytes;
  return Math.max(unpadded, INIT_MIN_BYTES - (INIT_OVERHEAD_BYTES - INIT_BODY_PREFIX_BYTES));
}

export function parseInitBody(
  plaintext: Uint8Array,
): { flags: number; payload: Uint8Array } | SessionDropReason {
  if (plaintext.length < INIT_BODY_PREFIX_BYTES) return 'bad_handshake';
  const length = (plaintext[1] << 8) | plaintext[2];
  if (INIT_BODY_PREFIX_BYTES + length > plaintext.length) return 'bad_handshake';
  return {
    flags: plaintext[0],
    payload: plaintext.subarray(INIT_BODY_PREFIX_BYTES, INIT_BODY_PREFIX_BYTES + length),
  };
}

export interface InitFields {
  readonly senderIndex: number;
  readonly attempt: number;
  readonly ephemeral: Uint8Array;
  readonly encryptedStatic: Uint8Array;
  readonly encryptedBody: Uint8Array;
  /** Every byte before the cookie MAC: what the MAC covers. */
  readonly covered: Uint8Array;
  readonly cookieMac: Uint8Array;
}

export function encodeInit(fields: Omit<InitFields, 'covered' | 'cookieMac'>): Uint8Array {
  const packet = new Uint8Array(INIT_BODY + fields.encryptedBody.length + COOKIE_MAC_BYTES);
  writePacketHeader(packet, EncryptedPacketType.INIT);
  writeU32(packet, INIT_SENDER_INDEX, fields.senderIndex);
  packet[INIT_ATTEMPT] = fields.attempt;
  packet.set(fields.ephemeral, INIT_EPHEMERAL);
  packet.set(fields.encryptedStatic, INIT_STATIC);
  packet.set(fields.encryptedBody, INIT_BODY);
  return packet;
}

/** Views into the packet (no copies); the caller copies what outlives it. */
export function decodeInit(packet: Uint8Array): InitFields | SessionDropReason {
  if (packet.length < INIT_MIN_BYTES) return 'too_short';
  const macAt = packet.length - COOKIE_MAC_BYTES;
  return {
    senderIndex: readU32(packet, INIT_SENDER_INDEX),
    attempt: packet[INIT_ATTEMPT],
    ephemeral: packet.subarray(INIT_EPHEMERAL, INIT_STATIC),
    encryptedStatic: packet.subarray(INIT_STATIC, INIT_BODY),
    encryptedBody: packet.subarray(INIT_BODY, macAt),
    covered: packet.subarray(0, macAt),
    cookieMac: packet.subarray(macAt),
  };
}

/** A copy of an INIT with its cookie MAC set (the rest is unchanged, so no nonce is reused). */
export function withCookieMac(init: Uint8Array, mac: Uint8Array): Uint8Array {
  const copy = new Uint8Array(init);
  copy.set(mac, init.length - COOKIE_MAC_BYTES);
  return copy;
}

export interface RespFields {
  readonly receiverIndex: number;
  readonly senderIndex: number;
  readonly attempt: number;
  readonly ephemeral: Uint8Array;
  readonly encryptedBody: Uint8Array;
}

export function encodeResp(fields: RespFields): Uint8Array {
  const packet = new Uint8Array(RESP_BODY + fields.encryptedBody.length);
  writePacketHeader(packet, EncryptedPacketType.RESP);
  writeU32(packet, RESP_RECEIVER_INDEX, fields.receiverIndex);
  writeU32(packet, RESP_SENDER_INDEX, fields.senderIndex);
  packet[RESP_ATTEMPT] = fields.attempt;
  packet.set(fields.ephemeral, RESP_EPHEMERAL);
  packet.set(fields.encryptedBody, RESP_BODY);
  return packet;
}

export function decodeResp(packet: Uint8Array): RespFields | SessionDropReason {
  if (packet.length < RESP_OVERHEAD_BYTES) return 'too_short';
  return {
    receiverIndex: readU32(packet, RESP_RECEIVER_INDEX),
    senderIndex: readU32(packet, RESP_SENDER_INDEX),
    attempt: packet[RESP_ATTEMPT],
    ephemeral: packet.subarray(RESP_EPHEMERAL, RESP_BODY),
    encryptedBody: packet.subarray(RESP_BODY),
  };
}

export function encodeCookieReply(
  receiverIndex: number,
  nonce: Uint8Array,
  sealedCookie: Uint8Array,
): Uint8Array {
  const packet = new Uint8Array(COOKIE_PACKET_BYTES);
  writePacketHeader(packet, EncryptedPacketType.COOKIE);
  writeU32(packet, COOKIE_RECEIVER_INDEX, receiverIndex);
  packet.set(nonce, COOKIE_NONCE);
  packet.set(sealedCookie, COOKIE_BODY);
  return packet;
}

export function encodeHello(nonce: Uint8Array): Uint8Array {
  const packet = new Uint8Array(HELLO_PACKET_BYTES);
  writePacketHeader(packet, EncryptedPacketType.HELLO);
  packet.set(nonce, HELLO_NONCE);
  return packet;
}

export function encodeKey(nonce: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const packet = new Uint8Array(KEY_PACKET_BYTES);
  writePacketHeader(packet, EncryptedPacketType.KEY);
  packet.set(nonce, HELLO_NONCE);
  packet.set(publicKey, KEY_PUBLIC_KEY);
  return packet;
}

export function encodeUnknownSession(receiverIndex: number, counter: number): Uint8Array {
  const packet = new Uint8Array(UNKNOWN_SESSION_PACKET_BYTES);
  writePacketHeader(packet, EncryptedPacketType.UNKNOWN_SESSION);
  writeU32(packet, UNKNOWN_SESSION_INDEX, receiverIndex);
  writeCounter(packet, UNKNOWN_SESSION_COUNTER, counter);
  return packet;
}
