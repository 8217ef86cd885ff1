import { DEFAULTS } from '../config/defaults';
import type { X25519KeyPair } from '../crypto/x25519';
import { KademliaError } from '../errors';
import type { DatagramTransport, Endpoint } from '../transport/transport';
import { INIT_MIN_BYTES } from './encrypted-packets';
import type { HandshakeCrypto } from './handshake';
import type { SessionDropReason } from './session-layer';
import type { PeerEntry, SessionTable } from './session-table';
import type { TransportSession } from './transport-session';

/** When INITs must carry a cookie: under measured load only, always (a node under attack), or never. */
export type CookieMode = 'auto' | 'always' | 'never';

/** The encrypted layer's tunables, resolved from options and DEFAULTS. */
export interface SessionConfig {
  readonly maxPacketBytes: number;
  readonly maxSessions: number;
  readonly rekeyAfterMs: number;
  readonly rekeyAfterMessages: number;
  readonly rejectAfterMs: number;
  readonly replayWindowBits: number;
  readonly cookieMode: CookieMode;
  readonly handshakeCookieThreshold: number;
  readonly cookieRotationMs: number;
  readonly handshakeTimeoutMs: number;
  readonly handshakeMaxAttempts: number;
  readonly keyDiscoveryQueue: number;
  readonly maxKeyDiscoveries: number;
  readonly maxDeferredReplies: number;
}

/**
 * Counters of what the layer did (drops are reported separately, by reason, through onDrop).
 *
 * Inbound accounting is exact: every packet the transport hands the layer ends in exactly one fate, so
 * `packetsReceived === payloadPackets + controlPackets + droppedPackets` always holds (packets arriving after
 * close() are not received). The fate is what happened to the packet itself:
 * - payload: its payload (DATA, an INIT's request, a RESP's first reply) was handed up and the handler
 *   returned; a handler that throws makes it dropped ('handler_error') instead;
 * - dropped: a drop was reported for it before it was accepted (an INIT answered with COOKIE is
 *   'cookie_required', DATA for an unknown index answered with UNKNOWN_SESSION is 'unknown_session');
 * - control: accepted without a payload (HELLO, KEY, COOKIE, UNKNOWN_SESSION, an empty RESP or INIT, an
 *   empty confirmation DATA, a duplicate INIT answered again).
 * Drops reported for what we send while handling a packet (a reply over budget, a resend to a bad key)
 * do not change its fate, so onDrop may report more drops than `droppedPackets`.
 */
export interface EncryptedSessionCounters {
  /** Packets the transport handed the layer. */
  packetsReceived: number;
  /** Of those, packets whose payload the handler accepted. */
  payloadPackets: number;
  /** Of those, packets accepted that carried no payload. */
  controlPackets: number;
  /** Of those, packets dropped (each reported through onDrop). */
  droppedPackets: number;
  /** Handshakes we started as initiator (a rekey or a restart after UNKNOWN_SESSION included). */
  handshakesInitiated: number;
  /** Of those, completed by a valid RESP. */
  handshakesCompleted: number;
  /** INITs that created a session on our side as responder. */
  handshakesAccepted: number;
  /** X25519 operations: the cost a handshake flood is measured in. */
  dhOperations: number;
  cookiesSent: number;
  /** Replies held until the address was validated (3× rule). */
  repliesDeferred: number;
  /** HELLOs sent to learn an unpinned peer's key. */
  keyDiscoveries: number;
  /** Sessions dropped because the peer said it lost them (UNKNOWN_SESSION); each re-handshakes on demand. */
  sessionsLost: number;
  /** Rekeys started because a session reached rekeyAfterMs or rekeyAfterMessages. */
  rekeys: number;
}

export function emptySessionCounters(): EncryptedSessionCounters {
  return {
    packetsReceived: 0,
    payloadPackets: 0,
    controlPackets: 0,
    droppedPackets: 0,
    handshakesInitiated: 0,
    handshakesCompleted: 0,
    handshakesAccepted: 0,
    dhOperations: 0,
    cookiesSent: 0,
    repliesDeferred: 0,
    keyDiscoveries: 0,
    sessionsLost: 0,
    rekeys: 0,
  };
}

/** What the layer's parts (responder, initiator, key discovery) share; the layer itself implements it. */
export interface SessionContext {
  readonly transport: DatagramTransport;
  readonly local: X25519KeyPair;
  readonly clientMode: boolean;
  readonly now: () => number;
  readonly table: SessionTable;
  readonly config: SessionConfig;
  /** Counts every DH in `counters.dhOperations`. */
  readonly crypto: HandshakeCrypto;
  readonly counters: EncryptedSessionCounters;
  /** Reports a drop; while a packet is handled and not yet accepted, it is that packet's fate. */
  drop(reason: SessionDropReason, from: Endpoint): void;
  /** The packet being handled is accepted: drops reported after this are about what we send for it. */
  accept(): void;
  /** Hands an authenticated payload to the layer above; a throwing handler is counted, not propagated. */
  deliver(session: TransportSession, payload: Uint8Array): void;
  /** Sends over the session, or holds the payload while the budget of an unvalidated address is spent. */
  sendData(session: TransportSession, payload: Uint8Array): void;
  /** Sends to the peer however it can: its session, a new INIT attempt, or a new handshake. */
  sendToPeer(peer: PeerEntry, payload: Uint8Array): void;
}

/** Options over DEFAULTS, validated: a bad value is a CONFIG_INVALID error at construction, not a later surprise. */
export function resolveSessionConfig(options: Partial<SessionConfig>): SessionConfig {
  const config: SessionConfig = {
    maxPacketBytes: options.maxPacketBytes ?? DEFAULTS.maxPacketBytes,
    maxSessions: options.maxSessions ?? DEFAULTS.maxSessions,
    rekeyAfterMs: options.rekeyAfterMs ?? DEFAULTS.rekeyAfterMs,
    rekeyAfterMessages: options.rekeyAfterMessages ?? DEFAULTS.rekeyAfterMessages,
    rejectAfterMs: options.rejectAfterMs ?? DEFAULTS.rejectAfterMs,
    replayWindowBits: options.replayWindowBits ?? DEFAULTS.replayWindowBits,
    cookieMode: options.cookieMode ?? 'auto',
    handshakeCookieThreshold: options.handshakeCookieThreshold ?? DEFAULTS.handshakeCookieThreshold,
    cookieRotationMs: options.cookieRotationMs ?? DEFAULTS.cookieRotationMs,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
    handshakeMaxAttempts: options.handshakeMaxAttempts ?? DEFAULTS.handshakeMaxAttempts,
    keyDiscoveryQueue: options.keyDiscoveryQueue ?? DEFAULTS.keyDiscoveryQueue,
    maxKeyDiscoveries: options.maxKeyDiscoveries ?? DEFAULTS.maxKeyDiscoveries,
    maxDeferredReplies: options.maxDeferredReplies ?? DEFAULTS.maxDeferredReplies,
  };
  const { maxPacketBytes } = config;
  if (!Number.isInteger(maxPacketBytes) || maxPacketBytes < INIT_MIN_BYTES) {
    throw new KademliaError(
      `maxPacketBytes must be at least ${INIT_MIN_BYTES}: ${maxPacketBytes}`,
      'CONFIG_INVALID',
    );
  }
  if (!['auto', 'always', 'never'].includes(config.cookieMode)) {
    throw new KademliaError(`unknown cookieMode: ${String(config.cookieMode)}`, 'CONFIG_INVALID');
  }
  for (const name of [
    'maxSessions',
    'rekeyAfterMs',
    'rekeyAfterMessages',
    'rejectAfterMs',
    'handshakeTimeoutMs',
    'handshakeMaxAttempts',
    'keyDiscoveryQueue',
    'maxKeyDiscoveries',
    'cookieRotationMs',
  ] as const) {
    if (!(config[name] > 0))
      throw new KademliaError(`${name} must be positive: ${config[name]}`, 'CONFIG_INVALID');
  }
  return config;
}
