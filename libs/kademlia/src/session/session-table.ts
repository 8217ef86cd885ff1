import { randomBytes } from 'node:crypto';
import { LruMap } from '../collections/lru-map';
import { nodeIdFromPublicKey } from '../id/key-id';
import type { NodeId } from '../id/node-id';
import { endpointKey, type Endpoint } from '../transport/transport';
import { canonicalIp } from '../wire/ip-address';
import type { TransportSession } from './transport-session';

/** The initiator's state of a handshake in flight; the table only needs to know its index. */
export interface PendingHandshakeRef {
  readonly localIndex: number;
  readonly peer: PeerEntry;
}

export type IndexOwner = TransportSession | PendingHandshakeRef;

/**
 * Everything we hold about one peer, keyed by (static key, ip:port) as discv5 does: the same key at another
 * address is another peer, so a spoofed source can never ride an existing session.
 */
export class PeerEntry {
  readonly endpointKey: string;
  readonly nodeId: NodeId;
  current: TransportSession | undefined;
  /** The session `current` replaced; still accepted on receive until it expires or is replaced in turn. */
  previous: TransportSession | undefined;
  pending: PendingHandshakeRef | undefined;
  /** The responder's last cookie: INITs to it carry a cookie MAC while it is fresh. */
  cookie: { value: Uint8Array; receivedAt: number } | undefined;

  constructor(
    readonly key: string,
    readonly endpoint: Endpoint,
    readonly publicKey: Uint8Array,
  ) {
    this.endpointKey = endpointKey(endpoint);
    this.nodeId = nodeIdFromPublicKey(publicKey);
  }
}

export interface SessionTableOptions {
  readonly maxPeers: number;
  /** Source of session indexes; tests make it deterministic. */
  readonly randomIndex?: () => number;
  /** Called for each peer pushed out by the bound. */
  readonly onEvict?: (peer: PeerEntry) => void;
}

function peerKey(endpointText: string, publicKey: Uint8Array): string {
  return (
    endpointText + '/' + Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length).toString('hex')
  );
}

/** The endpoint with its host in canonical text, as transports report senders. */
export function canonicalEndpoint(endpoint: Endpoint): Endpoint {
  try {
    const host = canonicalIp(endpoint.host);
    return host === endpoint.host ? endpoint : { host, port: endpoint.port };
  } catch {
    return endpoint; // not an IP literal: nothing will ever answer from it, but a send must not throw
  }
}

function randomU32(): number {
  return randomBytes(4).readUInt32BE(0);
}

/**
 * The bounded session table: peers in an LRU (the least recently used peer and all its sessions go first),
 * a map from our random 32-bit session indexes (WireGuard style: a DATA packet names its session without
 * naming its sender) to sessions and pending handshakes, and a map from initiator ephemeral keys to
 * responder sessions, so a re-sent INIT finds its session without key agreement.
 */
export class SessionTable {
  private readonly peers: LruMap<string, PeerEntry>;
  private readonly latestByEndpoint = new Map<string, PeerEntry>();
  private readonly indexes = new Map<number, IndexOwner>();
  private readonly byEphemeral = new Map<string, TransportSession>();
  private readonly randomIndex: () => number;
  evictions = 0;

  constructor(private readonly options: SessionTableOptions) {
    this.peers = new LruMap(options.maxPeers);
    this.randomIndex = options.randomIndex ?? randomU32;
  }

  get peerCount(): number {
    return this.peers.size;
  }

  /** Session indexes in use (sessions and pending handshakes). */
  get indexCount(): number {
    return this.indexes.size;
  }

  /** The peer at this address with this key, marking it recently used. */
  get(endpoint: Endpoint, publicKey: Uint8Array): PeerEntry | undefined {
    return this.peers.get(peerKey(endpointKey(endpoint), publicKey));
  }

  /**
   * The peer, created when new (which may evict the least recently used one). Hosts are stored in canonical
   * form, the form transports report senders in, so a session matches the address its packets come from.
   */
  getOrCreate(endpoint: Endpoint, publicKey: Uint8Array): PeerEntry {
    const exact = this.peers.get(peerKey(endpointKey(endpoint), publicKey));
    if (exact !== undefined) return exact;
    const canonical = canonicalEndpoint(endpoint);
    const text = endpointKey(canonical);
    const key = peerKey(text, publicKey);
    const found = this.peers.get(key);
    if (found !== undefined) return found;
    const peer = new PeerEntry(key, canonical, new Uint8Array(publicKey));
    const evicted = this.peers.set(key, peer);
    this.latestByEndpoint.set(text, peer);
    if (evicted !== undefined) this.forget(evicted[1]);
    return peer;
  }

  /** The peer last created at this address: where a send without a known key goes. */
  latestAt(endpoint: Endpoint): PeerEntry | undefined {
    const peer = this.latestByEndpoint.get(endpointKey(endpoint));
    return peer === undefined ? undefined : this.peers.get(peer.key);
  }

  owner(index: number): IndexOwner | undefined {
    return this.indexes.get(index);
  }

  /** A random index not in use; it stays free until assigned (install() assigns a session's). */
  newIndex(): number {
    for (;;) {
      const index = this.randomIndex() >>> 0;
      if (!this.indexes.has(index)) return index;
    }
  }

  /** Gives an index to its owner; a pending handshake's index is handed on to the session it becomes. */
  assignIndex(index: number, owner: IndexOwner): void {
    this.indexes.set(index, owner);
  }

  /** Marks the peer recently used (traffic on its sessions keeps it in the table). */
  touch(peer: PeerEntry): void {
    this.peers.get(peer.key);
  }

  releaseIndex(index: number, owner: IndexOwner): void {
    if (this.indexes.get(index) === owner) this.indexes.delete(index);
  }

  sessionForEphemeral(ephemeralKey: string): TransportSession | undefined {
    return this.byEphemeral.get(ephemeralKey);
  }

  /** Makes `session` its peer's current one; the old current becomes previous, the old previous goes. */
  install(session: TransportSession): void {
    const peer = session.peer;
    if (peer.previous !== undefined) this.dropSession(peer.previous);
    peer.previous = peer.current;
    peer.current = session;
    this.indexes.set(session.localIndex, session);
    if (session.responder !== undefined) this.byEphemeral.set(session.responder.ephemeralKey, session);
  }

  /** Forgets one session (expired, or the peer told us it lost it). */
  remove(session: TransportSession): void {
    const peer = session.peer;
    if (peer.current === session) peer.current = undefined;
    if (peer.previous === session) peer.previous = undefined;
    this.dropSession(session);
  }

  clear(): void {
    this.peers.clear();
    this.latestByEndpoint.clear();
    this.indexes.clear();
    this.byEphemeral.clear();
  }

  private dropSession(session: TransportSession): void {
    this.releaseIndex(session.localIndex, session);
    const record = session.responder;
    if (record !== undefined && this.byEphemeral.get(record.ephemeralKey) === session) {
      this.byEphemeral.delete(record.ephemeralKey);
    }
  }

  private forget(peer: PeerEntry): void {
    this.evictions++;
    if (peer.current !== undefined) this.dropSession(peer.current);
    if (peer.previous !== undefined) this.dropSession(peer.previous);
    if (peer.pending !== undefined) this.releaseIndex(peer.pending.localIndex, peer.pending);
    peer.current = peer.previous = peer.pending = undefined;
    if (this.latestByEndpoint.get(peer.endpointKey) === peer) this.latestByEndpoint.delete(peer.endpointKey);
    this.options.onEvict?.(peer);
  }
}
