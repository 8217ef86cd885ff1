import { DEFAULTS } from '../config/defaults';
import { ID_BYTES } from '../id/node-id';

/**
 * Bounds the message format itself fixes. Unlike DEFAULTS these are not tunable: a node that changed
 * one would reject, or be rejected by, the rest of the network. docs/protocol.md lists the same numbers.
 */
export const WIRE_LIMITS = {
  /** Node IDs, targets and record keys: SHA-1 sized. */
  idBytes: ID_BYTES,
  /** Static X25519 public keys in contacts and packet headers. */
  publicKeyBytes: 32,
  /** Write tokens: a truncated HMAC, long enough that guessing one is hopeless. */
  tokenBytes: 16,
  /** Request IDs are uint32: random per request, so a stray reply rarely matches. */
  maxRequestId: 0xffff_ffff,
  /** Contacts in one NODES message: k, the most any reply needs. */
  maxContactsPerNodes: DEFAULTS.k,
  /** NODES messages in one reply; the receiver holds at most this many parts per request. */
  maxNodesParts: 8,
  /** Distances in one FIND_NODE_BY_DISTANCE; enough for a crawler step, small enough to bound the reply. */
  maxDistances: 8,
  /** Largest log distance: the far half of the ID space. 0 means the node itself. */
  maxDistance: DEFAULTS.idBits,
  /** UTF-8 bytes in an ERROR message's text; a hint for logs, not a transport for data. */
  maxErrorTextBytes: 200,
  /** Largest record value (BEP 44's bound): a record then fits one packet with its framing. */
  maxValueBytes: DEFAULTS.maxValueBytes,
  /**
   * value.length + salt.length of a signed record. Its largest STORE or VALUE is then 1065 bytes: under the
   * 1108-byte payload of the encrypted layer's INIT packet (1232 - 124), which any request or reply may ride in.
   * 1000 like an immutable value would make 1165 bytes, which fits PLAIN but not the encrypted layer.
   */
  maxSignedValueBytes: 900,
  /** Salt of a signed record (BEP 44's bound): it names one of a publisher's records, it is not a payload. */
  maxSaltBytes: 64,
  /** Sequence numbers of signed records are JavaScript safe integers, so every implementation holds them exactly. */
  maxSeq: Number.MAX_SAFE_INTEGER,
  /** Raw Ed25519 public keys (RFC 8032). */
  signingKeyBytes: 32,
  /** Ed25519 signatures. */
  signatureBytes: 64,
  /** Longest TTL a record may travel with, in seconds. */
  maxTtlSeconds: DEFAULTS.maxRecordTtlMs / 1000,
  /** Largest encoded message: what fits one UDP datagram without fragmentation. */
  maxMessageBytes: DEFAULTS.maxPacketBytes,
} as const;
