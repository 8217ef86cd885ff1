import type { NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import type { Endpoint } from '../transport/transport';

/**
 * The inner messages of the protocol, as the RPC layer sees them once decoded and validated.
 * On the wire each is one CBOR array `[type, requestId, ...fields]` (docs/protocol.md has the bytes).
 */
export enum MessageType {
  PING = 1,
  PONG = 2,
  FIND_NODE = 3,
  FIND_NODE_BY_DISTANCE = 4,
  NODES = 5,
  FIND_VALUE = 6,
  VALUE = 7,
  STORE = 8,
  STORE_ACK = 9,
  ERROR = 15,
}

/** An immutable stored value as it travels: key (160-bit), value bytes, remaining time-to-live in seconds. */
export interface ImmutableWireRecord {
  readonly key: NodeId;
  readonly value: Uint8Array;
  readonly ttlSeconds: number;
}

/**
 * A signed mutable record as it travels (docs/signed-records.md): the immutable fields plus the publisher's
 * Ed25519 public key, the version, the salt and the signature. The codec checks shapes and sizes only; whoever
 * stores or uses the record verifies the signature (store/signed-records.ts).
 */
export interface SignedWireRecord extends ImmutableWireRecord {
  /** Raw 32-byte Ed25519 public key; key must equal SHA-1(publicKey ‖ salt). */
  readonly publicKey: Uint8Array;
  /** 0..2^53-1; holders keep the highest valid seq. */
  readonly seq: number;
  /** 0..64 bytes. */
  readonly salt: Uint8Array;
  /** 64 bytes. */
  readonly signature: Uint8Array;
}

/** Either kind of record; on the wire a 3-item array is immutable, a 7-item array is signed. */
export type WireRecord = ImmutableWireRecord | SignedWireRecord;

/** True for a signed record (it carries a signature); the codec guarantees the other signed fields with it. */
export function isSignedWireRecord(record: WireRecord): record is SignedWireRecord {
  return (record as Partial<SignedWireRecord>).signature !== undefined;
}

export interface PingMessage {
  readonly type: MessageType.PING;
  readonly requestId: number;
}
export interface PongMessage {
  readonly type: MessageType.PONG;
  readonly requestId: number;
  /** The address the request came from, as the responder saw it (NAT discovery). */
  readonly observed: Endpoint;
}
export interface FindNodeMessage {
  readonly type: MessageType.FIND_NODE;
  readonly requestId: number;
  readonly target: NodeId;
}
export interface FindNodeByDistanceMessage {
  readonly type: MessageType.FIND_NODE_BY_DISTANCE;
  readonly requestId: number;
  /** Log distances 0..160 (0 = the node itself, 160 = the far half), at most 8, no duplicates. */
  readonly distances: readonly number[];
}
export interface NodesMessage {
  readonly type: MessageType.NODES;
  readonly requestId: number;
  /** How many NODES packets make up this reply (1..8); the receiver waits for all or times out. */
  readonly total: number;
  /**
   * This packet's index in the reply, 0..total-1. Numbered rather than counted, so a duplicated datagram
   * cannot stand in for a missing part, and parts that arrive out of order still merge closest first.
   */
  readonly part: number;
  readonly contacts: readonly Contact[];
  /** Present in replies to FIND_VALUE: the write token the requester needs to STORE here. */
  readonly token?: Uint8Array;
}
export interface FindValueMessage {
  readonly type: MessageType.FIND_VALUE;
  readonly requestId: number;
  readonly key: NodeId;
  /**
   * Only a signed record with seq ≥ minSeq is wanted: a holder of an older one answers as if it held nothing
   * (NODES + token), so a reader that has version n asks for n + 1 and gets no value bytes unless a newer
   * version exists. Ignored for immutable records.
   */
  readonly minSeq?: number;
}
export interface ValueMessage {
  readonly type: MessageType.VALUE;
  readonly requestId: number;
  readonly record: WireRecord;
  readonly token: Uint8Array;
}
export interface StoreMessage {
  readonly type: MessageType.STORE;
  readonly requestId: number;
  readonly token: Uint8Array;
  readonly record: WireRecord;
}
export enum StoreStatus {
  OK = 0,
  BAD_TOKEN = 1,
  STORE_FULL = 2,
  TOO_LARGE = 3,
  QUOTA_EXCEEDED = 4,
  /**
   * The record itself is unacceptable (a TTL of 0), or it is immutable and the key holds a signed record:
   * resending the same STORE will not help.
   */
  BAD_RECORD = 5,
  /** A signed record whose public key is unsafe, whose key is not SHA-1(publicKey ‖ salt), or whose signature fails. */
  BAD_SIGNATURE = 6,
  /** A signed record older than the one held: the holder has a newer version. */
  SEQ_TOO_LOW = 7,
  /** A signed record with the held seq but another value: the publisher signed two values with one seq. */
  SEQ_REUSED = 8,
}
export interface StoreAckMessage {
  readonly type: MessageType.STORE_ACK;
  readonly requestId: number;
  readonly status: StoreStatus;
}
export enum RemoteErrorCode {
  GENERIC = 0,
  UNSUPPORTED = 1,
  OVERLOADED = 2,
  BAD_REQUEST = 3,
}
export interface ErrorMessage {
  readonly type: MessageType.ERROR;
  readonly requestId: number;
  readonly code: RemoteErrorCode;
  readonly message?: string;
}

export type Message =
  | PingMessage
  | PongMessage
  | FindNodeMessage
  | FindNodeByDistanceMessage
  | NodesMessage
  | FindValueMessage
  | ValueMessage
  | StoreMessage
  | StoreAckMessage
  | ErrorMessage;

export type RequestMessage =
  | PingMessage
  | FindNodeMessage
  | FindNodeByDistanceMessage
  | FindValueMessage
  | StoreMessage;
export type ResponseMessage = PongMessage | NodesMessage | ValueMessage | StoreAckMessage | ErrorMessage;

const REQUEST_TYPES = new Set<MessageType>([
  MessageType.PING,
  MessageType.FIND_NODE,
  MessageType.FIND_NODE_BY_DISTANCE,
  MessageType.FIND_VALUE,
  MessageType.STORE,
]);

export function isRequest(message: Message): message is RequestMessage {
  return REQUEST_TYPES.has(message.type);
}
