import { openSession, sealSession, sessionKey, type SessionKey } from '../crypto/aead';
import type { TransportKeys } from '../crypto/noise-state';
import { ReplayWindow } from '../crypto/replay-window';
import { writePacketHeader } from './packet-header';
import {
  DATA_COUNTER,
  DATA_HEADER_BYTES,
  DATA_OVERHEAD_BYTES,
  DATA_RECEIVER_INDEX,
  EncryptedPacketType,
  writeCounter,
  writeU32,
} from './encrypted-packets';
import type { InitiatorHandshake, ResponderHandshake } from './handshake';
import type { PeerEntry } from './session-table';

/** Before its address is validated, a responder sends at most this many bytes per byte received (QUIC's rule). */
export const AMPLIFICATION_FACTOR = 3;
/** Payloads remembered per session, so a payload refused with UNKNOWN_SESSION can ride the next INIT. */
const RECENT_PAYLOADS = 4;

/** What the responder keeps of a handshake so that re-sent INIT attempts cost no DH. */
export interface ResponderRecord {
  readonly handshake: ResponderHandshake;
  /** The initiator's ephemeral key, hex: the session's key in the duplicate-INIT index. */
  readonly ephemeralKey: string;
  /** The encrypted static key of the INIT; a later attempt must carry the same bytes. */
  readonly encryptedStatic: Uint8Array;
  /** Bit n set: attempt n was delivered (attempts >= 32 start a new handshake instead). */
  attemptsSeen: number;
  /** The last RESP sent, re-sent unchanged when the same INIT attempt arrives again. */
  lastResp: { attempt: number; packet: Uint8Array } | undefined;
}

export interface TransportSessionOptions {
  readonly peer: PeerEntry;
  readonly role: 'initiator' | 'responder';
  readonly localIndex: number;
  readonly remoteIndex: number;
  readonly keys: TransportKeys;
  readonly remoteClientMode: boolean;
  readonly createdAt: number;
  readonly responder?: ResponderRecord;
  /** The initiator keeps its handshake: a RESP to another INIT attempt may still arrive and carry a reply. */
  readonly initiatorHandshake?: InitiatorHandshake;
  readonly replayWindowBits?: number;
}

/**
 * One established session: two directional ChaCha20-Poly1305 keys (converted once, not per packet),
 * the send counter that is also the nonce, the receive replay window and, on the responder side, the
 * amplification budget that holds until the initiator proves its address.
 */
export class TransportSession {
  readonly peer: PeerEntry;
  readonly role: 'initiator' | 'responder';
  readonly localIndex: number;
  readonly remoteIndex: number;
  readonly remoteClientMode: boolean;
  readonly createdAt: number;
  readonly responder: ResponderRecord | undefined;
  readonly initiatorHandshake: InitiatorHandshake | undefined;
  readonly replay: ReplayWindow;
  private readonly sendKey: SessionKey;
  private readonly receiveKey: SessionKey;
  private counter = 0;
  /** The initiator chose this address; a responder learns it is real from a valid cookie or the first DATA. */
  validated: boolean;
  bytesReceived = 0;
  bytesSent = 0;
  /** Replies that did not fit the budget, sent once the address is validated. */
  deferred: Uint8Array[] | undefined;
  /** Set while the payload of an INIT is being handled: replies are collected, the first rides the RESP. */
  capture: Uint8Array[] | undefined;
  private readonly recentCounters = new Float64Array(RECENT_PAYLOADS).fill(-1);
  private readonly recentPayloads: Array<Uint8Array | undefined> = new Array(RECENT_PAYLOADS);

  constructor(options: TransportSessionOptions) {
    this.peer = options.peer;
    this.role = options.role;
    this.localIndex = options.localIndex;
    this.remoteIndex = options.remoteIndex;
    this.remoteClientMode = options.remoteClientMode;
    this.createdAt = options.createdAt;
    this.responder = options.responder;
    this.initiatorHandshake = options.initiatorHandshake;
    this.replay = new ReplayWindow(options.replayWindowBits);
    const initiator = options.role === 'initiator';
    const { initiatorToResponder, responderToInitiator } = options.keys;
    this.sendKey = sessionKey(initiator ? initiatorToResponder : responderToInitiator);
    this.receiveKey = sessionKey(initiator ? responderToInitiator : initiatorToResponder);
    this.validated = initiator;
  }

  get messagesSent(): number {
    return this.counter;
  }

  /** Bytes a reply may still use before validation (3× received minus sent). */
  budget(): number {
    return this.validated ? Infinity : AMPLIFICATION_FACTOR * this.bytesReceived - this.bytesSent;
  }

  /** A DATA packet for `payload` (empty = a keepalive that only proves our address). One allocation. */
  sealData(payload: Uint8Array): Uint8Array {
    const counter = this.counter++;
    const packet = new Uint8Array(DATA_OVERHEAD_BYTES + payload.length);
    writePacketHeader(packet, EncryptedPacketType.DATA);
    writeU32(packet, DATA_RECEIVER_INDEX, this.remoteIndex);
    writeCounter(packet, DATA_COUNTER, counter);
    sealSession({
      key: this.sendKey,
      counter,
      ad: packet.subarray(0, DATA_HEADER_BYTES),
      plaintext: payload,
      out: packet,
      offset: DATA_HEADER_BYTES,
    });
    // A reference, not a copy: payloads are encoded per message and never reused by the RPC layer.
    const slot = counter % RECENT_PAYLOADS;
    this.recentCounters[slot] = counter;
    this.recentPayloads[slot] = payload;
    return packet;
  }

  /** The plaintext of an authenticated DATA packet; the caller checked the replay window and marks it after. */
  openData(packet: Uint8Array, counter: number): Uint8Array | undefined {
    return openSession({
      key: this.receiveKey,
      counter,
      ad: packet.subarray(0, DATA_HEADER_BYTES),
      sealed: packet.subarray(DATA_HEADER_BYTES),
    });
  }

  /** The payload sent with this counter, if it is among the last few; a refused DATA is re-sent from here. */
  recentPayload(counter: number): Uint8Array | undefined {
    const slot = counter % RECENT_PAYLOADS;
    return this.recentCounters[slot] === counter ? this.recentPayloads[slot] : undefined;
  }
}
