import { timingSafeEqual } from 'node:crypto';
import { openWithNonce } from '../crypto/aead';
import { cookieMac, cookieReplyKey, COOKIE_MAC_BYTES } from '../crypto/cookies';
import type { Endpoint } from '../transport/transport';
import {
  COOKIE_BODY,
  COOKIE_NONCE,
  COOKIE_PACKET_BYTES,
  COOKIE_RECEIVER_INDEX,
  decodeResp,
  encodeInit,
  initBodyLengthFor,
  initBodyPlaintext,
  readCounter,
  readU32,
  SessionFlags,
  UNKNOWN_SESSION_COUNTER,
  UNKNOWN_SESSION_INDEX,
  UNKNOWN_SESSION_PACKET_BYTES,
  withCookieMac,
} from './encrypted-packets';
import { InitiatorHandshake } from './handshake';
import type { SessionContext } from './session-context';
import type { PeerEntry, PendingHandshakeRef } from './session-table';
import { TransportSession } from './transport-session';

/** Attempt numbers are a 32-bit set on the responder; the protocol refuses attempts from 32 on. */
export const MAX_INIT_ATTEMPTS = 32;
const KNOWN_RESP_FLAGS = SessionFlags.CLIENT_MODE | SessionFlags.CONFIRM_REQUESTED;

/** A handshake we started and that has not been answered yet. */
export class PendingHandshake implements PendingHandshakeRef {
  nextAttempt = 0;
  /** The newest INIT, without cookie MAC: a COOKIE reply makes us re-send exactly it, MAC added. */
  lastInit: Uint8Array | undefined;

  constructor(
    readonly peer: PeerEntry,
    readonly handshake: InitiatorHandshake,
    readonly localIndex: number,
    readonly startedAt: number,
  ) {}
}

/**
 * The initiator's side: INIT attempts (every send() while the handshake is pending is one, carrying that
 * payload, so no payload waits for a round trip and RPC retries double as handshake retransmissions),
 * RESP, COOKIE, and the UNKNOWN_SESSION notice that a peer lost our session.
 */
export class Initiator {
  constructor(private readonly ctx: SessionContext) {}

  /** Carries `payload` in a new INIT attempt, starting a handshake when none is usable. */
  sendViaHandshake(peer: PeerEntry, payload: Uint8Array): void {
    const { config } = this.ctx;
    let pending = peer.pending as PendingHandshake | undefined;
    if (
      pending !== undefined &&
      (this.ctx.now() - pending.startedAt >= config.handshakeTimeoutMs ||
        pending.nextAttempt >= Math.min(config.handshakeMaxAttempts, MAX_INIT_ATTEMPTS))
    ) {
      this.abandon(pending);
      pending = undefined;
    }
    pending ??= this.start(peer);
    if (pending === undefined) {
      this.ctx.drop('bad_handshake', peer.endpoint);
      return;
    }
    const attempt = pending.nextAttempt++;
    const flags = this.ctx.clientMode ? SessionFlags.CLIENT_MODE : 0;
    const body = initBodyPlaintext(flags, payload, initBodyLengthFor(payload.length));
    pending.lastInit = encodeInit({
      senderIndex: pending.localIndex,
      attempt,
      ephemeral: pending.handshake.ephemeralPublicKey,
      encryptedStatic: pending.handshake.encryptedStatic,
      encryptedBody: pending.handshake.sealPayload(attempt, body),
    });
    this.transmitInit(pending);
  }

  onResp(packet: Uint8Array, from: Endpoint): void {
    const fields = decodeResp(packet);
    if (typeof fields === 'string') return this.ctx.drop(fields, from);
    const owner = this.ctx.table.owner(fields.receiverIndex);
    // A RESP for an attempt answered earlier finds the session its index now belongs to.
    const handshake =
      owner instanceof PendingHandshake
        ? owner.handshake
        : owner instanceof TransportSession
          ? owner.initiatorHandshake
          : undefined;
    if (owner === undefined || handshake === undefined) return this.ctx.drop('unexpected_packet', from);
    if (!sameEndpoint(owner.peer.endpoint, from)) return this.ctx.drop('wrong_endpoint', from);
    if (owner instanceof TransportSession && owner.remoteIndex !== fields.senderIndex) {
      return this.ctx.drop('bad_handshake', from);
    }
    if (handshake.wasAnswered(fields.attempt)) return this.ctx.drop('replay', from);
    const opened = handshake.openResponse(fields.attempt, fields.ephemeral, fields.encryptedBody);
    if (opened === undefined || opened.plaintext.length < 1) return this.ctx.drop('bad_handshake', from);
    const flags = opened.plaintext[0];
    if ((flags & ~KNOWN_RESP_FLAGS) !== 0) return this.ctx.drop('bad_flags', from);
    this.ctx.accept();
    let session: TransportSession;
    if (owner instanceof PendingHandshake) {
      session = new TransportSession({
        peer: owner.peer,
        role: 'initiator',
        localIndex: owner.localIndex,
        remoteIndex: fields.senderIndex,
        keys: opened.keys,
        remoteClientMode: (flags & SessionFlags.CLIENT_MODE) !== 0,
        createdAt: this.ctx.now(),
        initiatorHandshake: handshake,
        replayWindowBits: this.ctx.config.replayWindowBits,
      });
      owner.peer.pending = undefined;
      this.ctx.table.install(session);
      this.ctx.counters.handshakesCompleted++;
    } else {
      session = owner as TransportSession; // the only other owner with a handshake, checked above
    }
    this.ctx.table.touch(session.peer);
    const payload = opened.plaintext.subarray(1);
    if (payload.length > 0) this.ctx.deliver(session, payload);
    // The responder holds replies until our address is proven; any DATA proves it, an empty one is enough.
    if ((flags & SessionFlags.CONFIRM_REQUESTED) !== 0) this.ctx.sendData(session, EMPTY);
  }

  onCookie(packet: Uint8Array, from: Endpoint): void {
    if (packet.length !== COOKIE_PACKET_BYTES) {
      return this.ctx.drop(packet.length < COOKIE_PACKET_BYTES ? 'too_short' : 'bad_handshake', from);
    }
    const pending = this.ctx.table.owner(readU32(packet, COOKIE_RECEIVER_INDEX));
    if (!(pending instanceof PendingHandshake) || pending.lastInit === undefined) {
      return this.ctx.drop('unexpected_packet', from);
    }
    if (!sameEndpoint(pending.peer.endpoint, from)) return this.ctx.drop('wrong_endpoint', from);
    // Bound to our INIT (its ephemeral key is the AD): an off-path forger cannot hand us a cookie.
    const cookie = openWithNonce(
      cookieReplyKey(pending.peer.publicKey),
      packet.subarray(COOKIE_NONCE, COOKIE_BODY),
      pending.handshake.ephemeralPublicKey,
      packet.subarray(COOKIE_BODY),
    );
    if (cookie === undefined) return this.ctx.drop('bad_handshake', from);
    const known = pending.peer.cookie;
    // A replayed COOKIE must not make us re-send INITs: each cookie value buys one resend.
    if (known !== undefined && timingSafeEqual(known.value, cookie))
      return this.ctx.drop('unexpected_packet', from);
    pending.peer.cookie = { value: cookie, receivedAt: this.ctx.now() };
    this.transmitInit(pending);
  }

  /** The peer has no session for the index our DATA used: forget ours and re-send that payload in an INIT. */
  onUnknownSession(packet: Uint8Array, from: Endpoint): void {
    if (packet.length !== UNKNOWN_SESSION_PACKET_BYTES) {
      return this.ctx.drop(
        packet.length < UNKNOWN_SESSION_PACKET_BYTES ? 'too_short' : 'bad_handshake',
        from,
      );
    }
    const remoteIndex = readU32(packet, UNKNOWN_SESSION_INDEX);
    const counter = readCounter(packet, UNKNOWN_SESSION_COUNTER);
    const peer = this.ctx.table.latestAt(from);
    const session = [peer?.current, peer?.previous].find(
      (s) => s !== undefined && s.remoteIndex === remoteIndex,
    );
    // The notice must name a session index of this peer and a counter we used: an off-path forger has to
    // guess the peer's random 32-bit index.
    if (peer === undefined || session === undefined || counter < 0 || counter >= session.messagesSent) {
      return this.ctx.drop('unknown_session', from);
    }
    this.ctx.accept();
    const payload = session.recentPayload(counter);
    this.ctx.table.remove(session);
    this.ctx.counters.sessionsLost++;
    if (payload !== undefined) this.ctx.sendToPeer(peer, payload);
  }

  private start(peer: PeerEntry): PendingHandshake | undefined {
    const handshake = InitiatorHandshake.start({
      local: this.ctx.local,
      remoteStatic: peer.publicKey,
      crypto: this.ctx.crypto,
    });
    if (handshake === undefined) return undefined;
    const pending = new PendingHandshake(peer, handshake, this.ctx.table.newIndex(), this.ctx.now());
    this.ctx.table.assignIndex(pending.localIndex, pending);
    peer.pending = pending;
    this.ctx.counters.handshakesInitiated++;
    return pending;
  }

  private abandon(pending: PendingHandshake): void {
    this.ctx.table.releaseIndex(pending.localIndex, pending);
    if (pending.peer.pending === pending) pending.peer.pending = undefined;
  }

  private transmitInit(pending: PendingHandshake): void {
    const init = pending.lastInit!;
    const cookie = pending.peer.cookie;
    const fresh =
      cookie !== undefined && this.ctx.now() - cookie.receivedAt < this.ctx.config.cookieRotationMs;
    const packet = fresh
      ? withCookieMac(init, cookieMac(cookie.value, init.subarray(0, init.length - COOKIE_MAC_BYTES)))
      : init;
    this.ctx.transport.send(packet, pending.peer.endpoint);
  }
}

const EMPTY = new Uint8Array(0);

/** Peers are stored with canonical hosts, the form the transport reports senders in. */
export function sameEndpoint(expected: Endpoint, from: Endpoint): boolean {
  return expected.port === from.port && expected.host === from.host;
}
