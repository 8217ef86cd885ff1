import type { Clock } from '../clock';
import { KademliaError } from '../errors';
import type { Identity } from '../id/identity';
import type { DatagramTransport, Endpoint } from '../transport/transport';
import {
  DATA_COUNTER,
  DATA_OVERHEAD_BYTES,
  DATA_RECEIVER_INDEX,
  EncryptedPacketType,
  encodeUnknownSession,
  INIT_OVERHEAD_BYTES,
  readCounter,
  readU32,
} from './encrypted-packets';
import { nodeHandshakeCrypto, type HandshakeCrypto } from './handshake';
import { Initiator, sameEndpoint } from './initiator';
import { KeyDiscovery } from './key-discovery';
import { readPacketHeader } from './packet-header';
import { Responder } from './responder';
import {
  emptySessionCounters,
  type CookieMode,
  type EncryptedSessionCounters,
  resolveSessionConfig,
  type SessionConfig,
  type SessionContext,
} from './session-context';
import type { InboundPayload, PeerAddress, SessionDropReason, SessionLayer } from './session-layer';
import { SessionTable, type PeerEntry } from './session-table';
import { TransportSession } from './transport-session';

export type { CookieMode } from './session-context';

export interface EncryptedSessionOptions extends Partial<Omit<SessionConfig, 'cookieMode'>> {
  readonly transport: DatagramTransport;
  readonly identity: Identity;
  /** Only `now()` is read: sessions age, cookies rotate and handshake load is measured on this clock. */
  readonly clock: Clock;
  /** Tells peers (inside the encryption) to query us but keep us out of their routing tables. */
  readonly clientMode?: boolean;
  /** 'auto' (default): cookies only while new handshakes exceed handshakeCookieThreshold per second. */
  readonly cookieMode?: CookieMode;
  /** Test hook: fixed ephemeral keys (golden vectors) or a spy on DH operations. */
  readonly crypto?: HandshakeCrypto;
  /** Test hook: deterministic session indexes. */
  readonly randomIndex?: () => number;
}

/** Snapshot of the layer's state and counters, for metrics and tests. */
export interface EncryptedSessionStats extends EncryptedSessionCounters {
  /** Peers (NodeId, ip:port) in the session table. */
  peers: number;
  /** Session indexes in use: established sessions plus handshakes in flight. */
  indexes: number;
  /** Peers pushed out of the bounded table. */
  evictions: number;
}

/**
 * What became of the inbound packet being handled (EncryptedSessionCounters explains the rule); `open` until
 * something decides it, and `control` if nothing does.
 */
type InboundFate = 'open' | 'control' | 'payload' | 'dropped';

/** Counters above 2^53 cannot be represented; no session lives that long, this only keeps the math exact. */
const REJECT_AFTER_MESSAGES = Number.MAX_SAFE_INTEGER - 1;

/**
 * The encrypted, authenticated session layer (docs/protocol-sessions.md): Noise IK handshakes whose first
 * packet carries the first request, ChaCha20-Poly1305 DATA packets with counter nonces and a replay window,
 * sessions keyed by (NodeId, ip:port) in a bounded LRU, rekeying, cookies under handshake floods and a 3×
 * amplification limit. It implements SessionLayer, so RPC, routing and lookups run on it unchanged.
 *
 * Nothing on the wire names a node or an address: observers see random session indexes, ephemeral keys,
 * counters and ciphertext (a KEY reply to an unpinned first contact is the one exception, see KeyDiscovery).
 */
export class EncryptedSessionLayer implements SessionLayer {
  readonly maxPayloadBytes: number;
  private readonly config: SessionConfig;
  private readonly transport: DatagramTransport;
  private readonly now: () => number;
  private readonly localKey: Uint8Array;
  private readonly table: SessionTable;
  private readonly counters = emptySessionCounters();
  private readonly responder: Responder;
  private readonly initiator: Initiator;
  private readonly keyDiscovery: KeyDiscovery;
  private payloadHandler: (inbound: InboundPayload) => void = () => undefined;
  private dropHandler: (reason: SessionDropReason, from: Endpoint) => void = () => undefined;
  private closed = false;
  /** Undefined while no inbound packet is being handled (a send() from a timer or the application). */
  private fate: InboundFate | undefined;
  /**
   * The sender of the payload being delivered: a reply addressed with the very endpoint and key objects
   * deliver() handed out goes straight to it, without building the session table's string key (a hex
   * public key) and looking it up, once per reply packet.
   */
  private replyPeer: PeerEntry | undefined;

  constructor(options: EncryptedSessionOptions) {
    this.config = resolveSessionConfig(options);
    if (options.identity.publicKey.length !== 32) {
      throw new KademliaError('identity public key must be 32 bytes', 'CONFIG_INVALID');
    }
    this.maxPayloadBytes = this.config.maxPacketBytes - INIT_OVERHEAD_BYTES;
    this.transport = options.transport;
    this.localKey = options.identity.publicKey;
    const clock = options.clock;
    this.now = () => clock.now();
    this.table = new SessionTable({ maxPeers: this.config.maxSessions, randomIndex: options.randomIndex });
    const base = options.crypto ?? nodeHandshakeCrypto;
    const counters = this.counters;
    // The parts share this context; it stays private, so nothing outside can inject payloads or packets.
    const ctx: SessionContext = {
      transport: this.transport,
      local: { publicKey: options.identity.publicKey, privateKey: options.identity.privateKey },
      clientMode: options.clientMode ?? false,
      now: this.now,
      table: this.table,
      config: this.config,
      counters,
      crypto: {
        dh: (privateKey, publicKey) => {
          counters.dhOperations++;
          return base.dh(privateKey, publicKey);
        },
        generateEphemeral: () => base.generateEphemeral(),
      },
      drop: (reason, from) => this.drop(reason, from),
      accept: () => {
        if (this.fate === 'open') this.fate = 'control';
      },
      deliver: (session, payload) => this.deliver(session, payload),
      sendData: (session, payload) => this.sendData(session, payload),
      sendToPeer: (peer, payload) => this.sendToPeer(peer, payload),
    };
    this.responder = new Responder(ctx);
    this.initiator = new Initiator(ctx);
    this.keyDiscovery = new KeyDiscovery(ctx);
    options.transport.onPacket((packet, from) => this.receive(packet, from));
  }

  /**
   * Sends one payload: over the peer's session, or in an INIT when there is none yet (no round trip is
   * waited for). Without a public key the address's current peer is used, or its key is discovered first.
   * An oversized payload is a caller bug (RPC splits replies), so it throws.
   */
  send(to: PeerAddress, payload: Uint8Array): void {
    if (this.closed) return;
    if (payload.length > this.maxPayloadBytes) {
      throw new KademliaError(
        `payload of ${payload.length} bytes exceeds ${this.maxPayloadBytes}`,
        'WIRE_TOO_LARGE',
      );
    }
    const publicKey = to.publicKey;
    const replyPeer = this.replyPeer;
    if (replyPeer !== undefined && to.endpoint === replyPeer.endpoint && publicKey === replyPeer.publicKey) {
      this.sendToPeer(replyPeer, payload);
      return;
    }
    if (publicKey === undefined) {
      const known = this.table.latestAt(to.endpoint);
      if (known !== undefined) this.sendToPeer(known, payload);
      else this.keyDiscovery.request(to.endpoint, payload);
      return;
    }
    if (publicKey.length !== 32 || Buffer.compare(publicKey, this.localKey) === 0) {
      this.drop('send_dropped', to.endpoint);
      return;
    }
    this.sendToPeer(this.table.getOrCreate(to.endpoint, publicKey), payload);
  }

  private sendToPeer(peer: PeerEntry, payload: Uint8Array): void {
    const session = peer.current;
    if (session !== undefined && this.isUsable(session)) {
      const age = this.now() - session.createdAt;
      const rekeyDue =
        session.role === 'initiator' &&
        (age >= this.config.rekeyAfterMs || session.messagesSent >= this.config.rekeyAfterMessages);
      // While the new handshake is pending the old session carries traffic; the rekey INIT carries this payload.
      if (!rekeyDue || peer.pending !== undefined) return this.sendData(session, payload);
      this.counters.rekeys++;
    }
    this.initiator.sendViaHandshake(peer, payload);
  }

  private sendData(session: TransportSession, payload: Uint8Array): void {
    const capture = session.capture;
    if (capture !== undefined) {
      // Replies to one INIT payload: a NODES reply has at most 8 parts, anything beyond is a handler bug.
      if (capture.length > this.config.maxDeferredReplies)
        return this.drop('send_dropped', session.peer.endpoint);
      capture.push(payload);
      return;
    }
    if (!session.validated && DATA_OVERHEAD_BYTES + payload.length > session.budget()) {
      // A reply to an address not yet proven may not exceed 3× what it sent us; it waits for the proof.
      const waiting = (session.deferred ??= []);
      if (waiting.length >= this.config.maxDeferredReplies)
        return this.drop('amplification_limit', session.peer.endpoint);
      waiting.push(payload);
      this.counters.repliesDeferred++;
      return;
    }
    const packet = session.sealData(payload);
    session.bytesSent += packet.length;
    this.transport.send(packet, session.peer.endpoint);
  }

  private deliver(session: TransportSession, payload: Uint8Array): void {
    const peer = session.peer;
    // Set before the handler runs: drops of the replies it sends are not this packet's fate.
    if (this.fate !== undefined) this.fate = 'payload';
    const outerReplyPeer = this.replyPeer;
    this.replyPeer = peer;
    try {
      this.payloadHandler({
        from: peer.endpoint,
        publicKey: peer.publicKey,
        nodeId: peer.nodeId,
        clientMode: session.remoteClientMode,
        payload,
      });
    } catch {
      if (this.fate !== undefined) this.fate = 'dropped';
      this.drop('handler_error', peer.endpoint);
    } finally {
      this.replyPeer = outerReplyPeer;
    }
  }

  onPayload(handler: (inbound: InboundPayload) => void): void {
    this.payloadHandler = handler;
  }

  onDrop(handler: (reason: SessionDropReason, from: Endpoint) => void): void {
    this.dropHandler = handler;
  }

  stats(): EncryptedSessionStats {
    return {
      ...this.counters,
      peers: this.table.peerCount,
      indexes: this.table.indexCount,
      evictions: this.table.evictions,
    };
  }

  /** Stops sending and delivering and forgets every session; the transport belongs to the caller. */
  close(): void {
    this.closed = true;
    this.table.clear();
    this.keyDiscovery.clear();
  }

  private drop(reason: SessionDropReason, from: Endpoint): void {
    if (this.fate === 'open') this.fate = 'dropped';
    try {
      this.dropHandler(reason, from);
    } catch {
      // A failing drop counter must not take the socket down.
    }
  }

  // Called by the transport for every datagram: nothing may escape, or one bad packet would kill the socket.
  private receive(packet: Uint8Array, from: Endpoint): void {
    if (this.closed) return;
    // Saved and restored, so a transport that delivered re-entrantly from a handler would still count right.
    const outer = this.fate;
    this.fate = 'open';
    this.counters.packetsReceived++;
    try {
      this.dispatch(packet, from);
    } catch {
      // Every decoder returns a reason instead of throwing; reaching here is a bug, still counted.
      this.fate = 'dropped';
      this.drop('handler_error', from);
    } finally {
      this.countFate(this.fate);
      this.fate = outer;
    }
  }

  private countFate(fate: InboundFate): void {
    if (fate === 'payload') this.counters.payloadPackets++;
    else if (fate === 'dropped') this.counters.droppedPackets++;
    else this.counters.controlPackets++;
  }

  private dispatch(packet: Uint8Array, from: Endpoint): void {
    if (packet.length > this.config.maxPacketBytes) return this.drop('too_large', from);
    const header = readPacketHeader(packet);
    if (!header.ok) return this.drop(header.reason, from);
    switch (header.packetType) {
      case EncryptedPacketType.DATA:
        return this.onData(packet, from);
      case EncryptedPacketType.INIT:
        return this.responder.onInit(packet, from);
      case EncryptedPacketType.RESP:
        return this.initiator.onResp(packet, from);
      case EncryptedPacketType.COOKIE:
        return this.initiator.onCookie(packet, from);
      case EncryptedPacketType.HELLO:
        return this.keyDiscovery.onHello(packet, from);
      case EncryptedPacketType.KEY:
        return this.keyDiscovery.onKey(packet, from);
      case EncryptedPacketType.UNKNOWN_SESSION:
        return this.initiator.onUnknownSession(packet, from);
      default:
        return this.drop('unknown_packet_type', from);
    }
  }

  /** The hot path: one map lookup, the replay check, one AEAD open. */
  private onData(packet: Uint8Array, from: Endpoint): void {
    if (packet.length < DATA_OVERHEAD_BYTES) return this.drop('too_short', from);
    const index = readU32(packet, DATA_RECEIVER_INDEX);
    const counter = readCounter(packet, DATA_COUNTER);
    const owner = this.table.owner(index);
    if (owner === undefined) return this.replyUnknownSession(index, counter, from, 'unknown_session');
    if (!(owner instanceof TransportSession)) return this.drop('handshake_pending', from);
    const session = owner;
    if (!sameEndpoint(session.peer.endpoint, from)) return this.drop('wrong_endpoint', from);
    if (!this.isUsable(session)) {
      this.table.remove(session);
      return this.replyUnknownSession(index, counter, from, 'session_expired');
    }
    if (session.replay.check(counter) !== 'ok') return this.drop('replay', from);
    const plaintext = session.openData(packet, counter);
    if (plaintext === undefined) return this.drop('decrypt_failed', from);
    session.replay.mark(counter);
    // Only the holder of the RESP's keys can write this packet, from this address: the address is proven.
    if (!session.validated) this.responder.validate(session);
    this.table.touch(session.peer);
    if (plaintext.length > 0) this.deliver(session, plaintext);
  }

  /** 16 bytes answering at least 32: tells the sender to re-handshake without amplifying anything. */
  private replyUnknownSession(
    index: number,
    counter: number,
    from: Endpoint,
    reason: SessionDropReason,
  ): void {
    if (counter >= 0) this.transport.send(encodeUnknownSession(index, counter), from);
    this.drop(reason, from);
  }

  private isUsable(session: TransportSession): boolean {
    return (
      this.now() - session.createdAt < this.config.rejectAfterMs &&
      session.messagesSent < REJECT_AFTER_MESSAGES
    );
  }
}
