import { randomFillSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, sealWithNonce } from '../crypto/aead';
import { COOKIE_BYTES, CookieJar, cookieReplyKey } from '../crypto/cookies';
import { endpointKey, type Endpoint } from '../transport/transport';
import {
  DATA_OVERHEAD_BYTES,
  decodeInit,
  encodeCookieReply,
  encodeResp,
  parseInitBody,
  RESP_OVERHEAD_BYTES,
  SessionFlags,
  type InitFields,
} from './encrypted-packets';
import { ResponderHandshake } from './handshake';
import { HandshakeLoad } from './handshake-load';
import { MAX_INIT_ATTEMPTS, sameEndpoint } from './initiator';
import type { SessionContext } from './session-context';
import { TransportSession, type ResponderRecord } from './transport-session';

const EMPTY = new Uint8Array(0);

/**
 * The responder's side: INIT in, RESP (carrying the first reply) out. It checks, before any key agreement,
 * whether a cookie is due (cookie mode) and whether the INIT repeats one already handled (no DH then); and it
 * keeps every reply to a not yet validated address within 3× the bytes that address sent.
 */
export class Responder {
  private readonly cookies: CookieJar;
  private readonly load: HandshakeLoad;
  private readonly cookieKey: KeyObject;
  private readonly cookieNonce = Buffer.alloc(AEAD_NONCE_BYTES);

  constructor(private readonly ctx: SessionContext) {
    this.cookies = new CookieJar({ now: ctx.now, rotationMs: ctx.config.cookieRotationMs });
    this.load = new HandshakeLoad(ctx.now, ctx.config.handshakeCookieThreshold);
    this.cookieKey = cookieReplyKey(ctx.local.publicKey);
  }

  onInit(packet: Uint8Array, from: Endpoint): void {
    const fields = decodeInit(packet);
    if (typeof fields === 'string') return this.ctx.drop(fields, from);
    if (fields.attempt >= MAX_INIT_ATTEMPTS) return this.ctx.drop('bad_handshake', from);
    const ephemeralKey = Buffer.from(fields.ephemeral).toString('hex');
    const known = this.ctx.table.sessionForEphemeral(ephemeralKey);
    if (known !== undefined) return this.onRepeatedInit(known, fields, packet.length, from);

    this.load.note();
    const cookieValid = this.hasValidCookie(fields, from);
    if (!cookieValid && this.cookieRequired()) {
      this.sendCookie(fields, from);
      return this.ctx.drop('cookie_required', from);
    }
    const handshake = ResponderHandshake.readInit({
      local: this.ctx.local,
      initiatorEphemeral: fields.ephemeral,
      encryptedStatic: fields.encryptedStatic,
      crypto: this.ctx.crypto,
    });
    if (handshake === undefined) return this.ctx.drop('bad_handshake', from);
    if (timingSafeEqual(handshake.initiatorStatic, this.ctx.local.publicKey)) {
      return this.ctx.drop('own_packet', from);
    }
    const plaintext = handshake.openPayload(fields.attempt, fields.encryptedBody);
    if (plaintext === undefined) return this.ctx.drop('bad_handshake', from);
    const body = parseInitBody(plaintext);
    if (typeof body === 'string') return this.ctx.drop(body, from);
    if ((body.flags & ~SessionFlags.CLIENT_MODE) !== 0) return this.ctx.drop('bad_flags', from);
    const keys = handshake.establish();
    if (keys === undefined) return this.ctx.drop('bad_handshake', from);

    const peer = this.ctx.table.getOrCreate(from, handshake.initiatorStatic);
    const record: ResponderRecord = {
      handshake,
      ephemeralKey,
      encryptedStatic: new Uint8Array(fields.encryptedStatic),
      attemptsSeen: 1 << fields.attempt,
      lastResp: undefined,
    };
    const session = new TransportSession({
      peer,
      role: 'responder',
      localIndex: this.ctx.table.newIndex(),
      remoteIndex: fields.senderIndex,
      keys,
      remoteClientMode: (body.flags & SessionFlags.CLIENT_MODE) !== 0,
      createdAt: this.ctx.now(),
      responder: record,
      replayWindowBits: this.ctx.config.replayWindowBits,
    });
    session.validated = cookieValid;
    session.bytesReceived = packet.length;
    this.ctx.table.install(session);
    this.ctx.counters.handshakesAccepted++;
    this.respond(session, fields.attempt, body.payload, from);
  }

  /** Another attempt of an INIT we answered (same ephemeral key): no DH, and a pure duplicate gets the same RESP. */
  private onRepeatedInit(session: TransportSession, fields: InitFields, bytes: number, from: Endpoint): void {
    const record = session.responder!;
    if (!sameEndpoint(session.peer.endpoint, from)) return this.ctx.drop('wrong_endpoint', from);
    if (!timingSafeEqual(fields.encryptedStatic, record.encryptedStatic))
      return this.ctx.drop('bad_handshake', from);
    session.bytesReceived += bytes;
    if (!session.validated && this.hasValidCookie(fields, from)) this.validate(session);
    const bit = 1 << fields.attempt;
    if ((record.attemptsSeen & bit) !== 0) {
      const last = record.lastResp;
      if (last === undefined || last.attempt !== fields.attempt) return this.ctx.drop('replay', from);
      if (last.packet.length > session.budget()) return this.ctx.drop('amplification_limit', from);
      return this.transmit(session, last.packet);
    }
    const plaintext = record.handshake.openPayload(fields.attempt, fields.encryptedBody);
    if (plaintext === undefined) return this.ctx.drop('bad_handshake', from);
    const body = parseInitBody(plaintext);
    if (typeof body === 'string') return this.ctx.drop(body, from);
    if ((body.flags & ~SessionFlags.CLIENT_MODE) !== 0) return this.ctx.drop('bad_flags', from);
    record.attemptsSeen |= bit;
    this.respond(session, fields.attempt, body.payload, from);
  }

  /**
   * Hands the INIT payload up and answers with a RESP that carries the first reply. Replies made while the
   * payload is handled are collected (RPC answers synchronously), so the RESP goes out first and knows
   * whether later parts must wait for the initiator's proof of address (CONFIRM_REQUESTED).
   */
  private respond(session: TransportSession, attempt: number, payload: Uint8Array, from: Endpoint): void {
    const record = session.responder!;
    session.capture = [];
    // deliver() never throws: a failing handler is counted there.
    if (payload.length > 0) this.ctx.deliver(session, payload);
    const replies = session.capture;
    session.capture = undefined;
    let first = replies.length > 0 ? replies[0] : EMPTY;
    let rest = replies.slice(1);
    if (RESP_OVERHEAD_BYTES + first.length > session.budget()) {
      // Only possible after many duplicates: the RESP goes out bare and the reply waits for validation.
      rest = replies;
      first = EMPTY;
    }
    let budget = session.budget() - (RESP_OVERHEAD_BYTES + first.length);
    let mustWait = false;
    for (const reply of rest) {
      budget -= DATA_OVERHEAD_BYTES + reply.length;
      if (budget < 0) mustWait = true;
    }
    const flags =
      (this.ctx.clientMode ? SessionFlags.CLIENT_MODE : 0) | (mustWait ? SessionFlags.CONFIRM_REQUESTED : 0);
    const plaintext = new Uint8Array(1 + first.length);
    plaintext[0] = flags;
    plaintext.set(first, 1);
    const sealed = record.handshake.sealResponse(attempt, plaintext);
    if (sealed === undefined) return this.ctx.drop('bad_handshake', from);
    const packet = encodeResp({
      receiverIndex: session.remoteIndex,
      senderIndex: session.localIndex,
      attempt,
      ephemeral: sealed.ephemeral,
      encryptedBody: sealed.ciphertext,
    });
    record.lastResp = { attempt, packet };
    if (packet.length > session.budget()) {
      this.ctx.drop('amplification_limit', from);
    } else {
      this.transmit(session, packet);
    }
    for (const reply of rest) this.ctx.sendData(session, reply);
  }

  /** The address is proven: send what waited for it. */
  validate(session: TransportSession): void {
    session.validated = true;
    const waiting = session.deferred;
    session.deferred = undefined;
    if (waiting !== undefined) for (const payload of waiting) this.ctx.sendData(session, payload);
  }

  private transmit(session: TransportSession, packet: Uint8Array): void {
    session.bytesSent += packet.length;
    this.ctx.transport.send(packet, session.peer.endpoint);
  }

  private cookieRequired(): boolean {
    const mode = this.ctx.config.cookieMode;
    return mode === 'always' || (mode === 'auto' && this.load.isHigh());
  }

  private hasValidCookie(fields: InitFields, from: Endpoint): boolean {
    if (isAllZero(fields.cookieMac)) return false;
    return this.cookies.verify(endpointKey(from), fields.covered, fields.cookieMac);
  }

  /** Stateless: a MAC of the address, encrypted to the INIT's ephemeral key; 52 bytes against an INIT's 411+. */
  private sendCookie(fields: InitFields, from: Endpoint): void {
    const cookie = this.cookies.cookieFor(endpointKey(from));
    randomFillSync(this.cookieNonce);
    const sealed = new Uint8Array(COOKIE_BYTES + AEAD_TAG_BYTES);
    sealWithNonce(
      { key: this.cookieKey, ad: fields.ephemeral, plaintext: cookie, out: sealed, offset: 0 },
      this.cookieNonce,
    );
    this.ctx.transport.send(encodeCookieReply(fields.senderIndex, this.cookieNonce, sealed), from);
    this.ctx.counters.cookiesSent++;
  }
}

function isAllZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
