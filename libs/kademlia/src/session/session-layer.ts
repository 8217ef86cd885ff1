import type { NodeId } from '../id/node-id';
import type { Endpoint } from '../transport/transport';

/** A peer we address: where it is, and its static key when we know it (always, except first contact). */
export interface PeerAddress {
  readonly endpoint: Endpoint;
  readonly publicKey?: Uint8Array;
}

/** A message payload that arrived through the session layer, with its authenticated sender. */
export interface InboundPayload {
  readonly from: Endpoint;
  readonly publicKey: Uint8Array;
  readonly nodeId: NodeId;
  /** The sender runs in client mode: it queries but must not be put into routing tables. */
  readonly clientMode: boolean;
  /** The encoded inner message (one CBOR array). */
  readonly payload: Uint8Array;
}

/** Reasons a packet is dropped below the RPC layer; every drop is counted under one of these. */
export type SessionDropReason =
  | 'too_short'
  | 'too_large'
  | 'bad_magic'
  | 'bad_version'
  | 'unknown_packet_type'
  | 'bad_sender_key'
  | 'bad_flags'
  | 'own_packet'
  /** The payload handler threw; the packet is dropped, the socket keeps running. */
  | 'handler_error'
  // Encrypted layer (docs/protocol-sessions.md):
  /** A DATA counter already accepted, or too far below the highest one (replay window). */
  | 'replay'
  /** A DATA packet whose tag did not verify: corrupted, forged, or for a session we replaced. */
  | 'decrypt_failed'
  /** DATA for a session index we do not have (answered with UNKNOWN_SESSION), or such a notice for none of ours. */
  | 'unknown_session'
  /** An INIT, RESP, COOKIE or KEY that fails its checks: not for our key, not authentic, bad plaintext. */
  | 'bad_handshake'
  /** An INIT without a valid cookie while we demand one (answered with COOKIE, no key agreement done). */
  | 'cookie_required'
  /** A reply to an unvalidated address that did not fit 3× its bytes and could not be held either. */
  | 'amplification_limit'
  /** DATA for a handshake we started but that has not completed (its RESP is late or lost). */
  | 'handshake_pending'
  /** A session packet from another address than the session's: sessions are bound to (NodeId, ip:port). */
  | 'wrong_endpoint'
  /** DATA for a session past its rejectAfter age (the sender is told to re-handshake). */
  | 'session_expired'
  /** A RESP, COOKIE or KEY that answers nothing we sent (late, duplicated, or forged). */
  | 'unexpected_packet'
  /** An outbound payload dropped: too many waiting for a peer's key, or a send to our own key. */
  | 'send_dropped';

/**
 * Between the datagram transport and RPC. It turns payloads into packets and back and tells RPC who
 * sent each payload. The plaintext layer carries the sender's key in the clear; the encrypted layer
 * (next) proves it with a handshake and hides it. RPC, routing and lookup code see only this interface.
 */
export interface SessionLayer {
  /** Largest payload `send` accepts, so RPC can split NODES replies to fit one packet each. */
  readonly maxPayloadBytes: number;
  send(to: PeerAddress, payload: Uint8Array): void;
  onPayload(handler: (inbound: InboundPayload) => void): void;
  onDrop(handler: (reason: SessionDropReason, from: Endpoint) => void): void;
  close(): void;
}
