import { setMaxListeners } from 'node:events';
import type { BootstrapRole } from '../bootstrap/bootstrap-role';
import { DEFAULTS } from '../config/defaults';
import { isKademliaError } from '../errors';
import type { Identity } from '../id/identity';
import { idToHex, type NodeId } from '../id/node-id';
import {
  runLookup,
  type LookupOutcome,
  type LookupProgress,
  type LookupRunOptions,
} from '../lookup/lookup-runner';
import { ReasonCounter } from '../metrics/metrics';
import type { Contact } from '../routing/contact';
import { RoutingTable, type RoutingEntry } from '../routing/routing-table';
import type { RpcReply } from '../rpc/pending-request';
import { PeerTimeouts } from '../rpc/rtt-estimator';
import { RpcEngine, type RequestBody, type RequestOptions, type RequestHandler } from '../rpc/rpc-engine';
import { EncryptedSessionLayer } from '../session/encrypted-session';
import { PlaintextSessionLayer } from '../session/plaintext-session';
import type { InboundPayload, SessionLayer } from '../session/session-layer';
import { PublishedRecords } from '../store/published-records';
import { RecordStore } from '../store/record-store';
import { WriteTokens } from '../store/write-tokens';
import { endpointKey, type DatagramTransport } from '../transport/transport';
import { UdpTransport } from '../transport/udp-transport';
import { MessageType, type NodesMessage } from '../wire/messages';
import type { KademliaEventMap } from './events';
import { GuardedTransport } from './guarded-transport';
import { NodeGuard } from './node-guard';
import type { ResolvedOptions } from './options';
import { createRequestHandler } from './request-handlers';
import { bootstrapRoleFor, ipDiversityPolicy, ownIdentity, SHED_KIND } from './runtime-setup';
import type { ValueOpsContext } from './value-ops';

export type Emit = <E extends keyof KademliaEventMap>(event: E, ...args: KademliaEventMap[E]) => boolean;

export interface LookupInput {
  target: NodeId;
  kind: 'node' | 'value';
  signal?: AbortSignal;
  deadlineMs?: number;
  /** Disjoint paths (secure mode) when above 1. */
  paths?: number;
  onProgress?: (progress: LookupProgress) => 'stop' | void;
}

/**
 * Everything a started node is made of — identity, transport, session layer, RPC, routing table, store — and
 * the internal operations the façade and the maintenance tasks share: requests with routing-table bookkeeping,
 * lookups with events and metrics, and the table's reaction to peers proving themselves alive or failing.
 */
export class NodeRuntime {
  readonly identity: Identity;
  readonly transport: DatagramTransport;
  readonly session: SessionLayer & { stats?(): object };
  readonly rpc: RpcEngine;
  readonly table: RoutingTable;
  readonly store: RecordStore;
  readonly published: PublishedRecords;
  readonly tokens: WriteTokens;
  readonly timeouts: PeerTimeouts;
  readonly guard: NodeGuard;
  /** The bootstrap role's contact buffer (bootstrapRole option); undefined on an ordinary node. */
  readonly bootstrapRole: BootstrapRole | undefined;
  /** Aborted by close(): ends every lookup and background loop of this node. */
  readonly lifetime = new AbortController();
  private readonly drops = new ReasonCounter<string>();
  /**
   * What the guard turned away that is not a whole datagram: contacts screened out of replies (contact_*), peers
   * kept out of the table (table_*), decrypted requests left unanswered under load or over a STORE budget
   * (request_*). Kept apart from drops so drops stays an exact count of datagrams.
   */
  private readonly refusals = new ReasonCounter<string>();
  private readonly lookupTotals = { node: 0, value: 0, converged: 0, other: 0 };
  private readonly evictionPings = new Set<string>();

  constructor(
    readonly options: ResolvedOptions,
    private readonly emit: Emit,
  ) {
    const o = options;
    const now = () => o.clock.now();
    this.identity = ownIdentity(o);
    this.guard = new NodeGuard({
      options: o,
      clock: o.clock,
      queueDepth: () => this.rpc.inflight,
      onReputationBan: (host) => this.evictHost(host),
      onBan: (event) => this.emit('peerBanned', event),
      onLoadLevel: (change) => this.emit('loadLevelChanged', change),
    });
    this.transport = new GuardedTransport(
      o.transport ?? new UdpTransport({ bindAddress: o.bindAddress, port: o.bindPort }),
      {
        admit: (packet, from) => this.guard.admitDatagram(packet, from),
        onDrop: (reason) => this.drops.add(`guard_${reason}`),
      },
    );
    const sessionOptions = { transport: this.transport, identity: this.identity, clientMode: o.clientMode };
    // Encrypted by default: no node ID, address or message content crosses the wire in clear. Plaintext exists
    // for debugging and for measuring what the encryption costs; it must never face a hostile network.
    this.session =
      o.sessions === 'plaintext'
        ? new PlaintextSessionLayer(sessionOptions)
        : new EncryptedSessionLayer({ ...sessionOptions, clock: o.clock, cookieMode: o.cookieMode });
    this.session.onDrop((reason) => this.drops.add(`session_${reason}`));
    this.table = new RoutingTable({
      localId: this.identity.nodeId,
      now,
      k: o.k,
      splitRelaxation: o.splitRelaxation,
      replacementCacheSize: o.replacementCacheSize,
      maxFailures: o.maxFailures,
      ipDiversity: ipDiversityPolicy(o),
    });
    this.bootstrapRole = bootstrapRoleFor({
      options: o,
      guard: this.guard,
      ping: (contact, signal) =>
        this.rpc
          .request(
            { endpoint: contact, publicKey: contact.publicKey },
            { type: MessageType.PING },
            { retries: 1, signal },
          )
          .then(
            () => true,
            () => false,
          ),
    });
    this.store = new RecordStore({
      now,
      maxRecords: o.maxStoreRecords,
      maxBytes: o.maxStoreBytes,
      maxRecordsPerIp: o.maxRecordsPerIp,
      maxValueBytes: o.maxValueBytes,
    });
    this.published = new PublishedRecords({ now, maxRecords: o.maxStoreRecords });
    this.timeouts = new PeerTimeouts({ maxPeers: DEFAULTS.rttCacheSize });
    this.tokens = new WriteTokens({ now, rotationMs: DEFAULTS.tokenRotationMs });
    this.rpc = new RpcEngine({
      session: this.session,
      clock: o.clock,
      timeouts: this.timeouts,
      maxInflight: o.maxInflightRequests,
      handleRequest: this.guardedHandler(
        createRequestHandler({
          localId: this.identity.nodeId,
          table: this.table,
          store: this.store,
          tokens: this.tokens,
          clock: o.clock,
          k: o.k,
          maxPayloadBytes: this.session.maxPayloadBytes,
          self: () => this.selfContact(),
          reportPeer: (sender, event) => this.guard.report(sender.from.host, event),
          bootstrapClosest: this.bootstrapRole
            ? (target, k, requester) => this.bootstrapRole!.closest(target, k, requester)
            : undefined,
          onStored: (record, sender, origin) =>
            this.emit('dataStored', {
              key: record.key,
              bytes: record.value.length,
              ttlSeconds: record.ttlSeconds,
              from: sender.from,
              origin,
            }),
        }),
      ),
      onPeerActivity: (sender, info) => this.onPeerActivity(sender, info.rttMs),
      onRequestSent: (to) => this.guard.noteRequestSent(to),
    });
    // Every running lookup listens on the lifetime signal; hundreds at once are normal, not a leak.
    setMaxListeners(0, this.lifetime.signal);
  }

  async listen(): Promise<void> {
    try {
      await this.transport.listen();
    } catch (err) {
      this.rpc.close();
      this.session.close();
      throw err;
    }
  }

  /** Aborts lookups, rejects requests in flight, closes the sockets. */
  async close(): Promise<void> {
    this.lifetime.abort();
    this.guard.stop();
    this.bootstrapRole?.close();
    this.rpc.close();
    this.session.close();
    await this.transport.close();
    this.evictionPings.clear();
  }

  selfContact(): Contact {
    const bound = this.transport.address();
    return {
      id: this.identity.nodeId,
      publicKey: this.identity.publicKey,
      host: bound.host,
      port: bound.port,
    };
  }

  /** A request to a known contact; a timeout counts as a failure against its routing-table entry. */
  async request(to: Contact, body: RequestBody, options: RequestOptions): Promise<RpcReply> {
    // Requests need not follow the node's lifetime signal: close() closes the RPC engine, which rejects them all.
    let reply: RpcReply;
    try {
      reply = await this.rpc.request({ endpoint: to, publicKey: to.publicKey }, body, options);
    } catch (err) {
      if (isKademliaError(err, 'RPC_TIMEOUT')) {
        this.onContactFailed(to.id);
        this.guard.report(to.host, 'timeout');
      }
      throw err;
    }
    return reply.message.type === MessageType.NODES
      ? this.screenNodes(reply as RpcReply<NodesMessage>)
      : reply;
  }

  /**
   * Set by the façade once joined: refills an empty table from the bootstrap entries. A node whose every contact
   * failed would otherwise start each lookup from nothing, and find nothing, forever.
   */
  rejoin: (() => Promise<void>) | undefined;
  private rejoining: Promise<void> | undefined;
  private lastRejoinAt = -Infinity;

  /**
   * Rejoins when the table is empty, at most once per bootstrapRetryMinMs. Only the caller that starts a round
   * waits for it; others (the round's own lookups among them) go on with the table as it is.
   */
  async refillIfEmpty(): Promise<void> {
    if (this.table.size() > 0 || !this.rejoin || this.rejoining || this.lifetime.signal.aborted) return;
    const now = this.options.clock.now();
    if (now - this.lastRejoinAt < this.options.bootstrapRetryMinMs) return;
    this.lastRejoinAt = now;
    this.rejoining = this.rejoin()
      .catch(() => undefined)
      .finally(() => (this.rejoining = undefined));
    await this.rejoining;
  }

  /** Runs one lookup to completion; emits lookupCompleted and records metrics. */
  async lookup(input: LookupInput): Promise<LookupOutcome> {
    await this.refillIfEmpty();
    const outcome = await runLookup({ ...this.lookupOptions(input), onProgress: input.onProgress });
    this.table.touch(input.target);
    this.lookupTotals[input.kind]++;
    this.lookupTotals[outcome.finishReason === 'converged' ? 'converged' : 'other']++;
    this.options.metrics.observe('kad_lookup_duration_seconds', outcome.durationMs / 1000, {
      kind: input.kind,
    });
    this.options.metrics.increment('kad_lookups_total', { kind: input.kind, result: outcome.finishReason });
    this.emit('lookupCompleted', {
      target: outcome.target,
      kind: outcome.kind,
      finishReason: outcome.finishReason,
      durationMs: outcome.durationMs,
      requests: outcome.requests,
      responses: outcome.responses,
      failures: outcome.failures,
      hops: outcome.maxHops,
      found: outcome.closest.length,
      valueFound: input.kind === 'value' ? outcome.finishReason === 'stopped' : undefined,
    });
    return outcome;
  }

  lookupOptions(input: Omit<LookupInput, 'onProgress'>): Omit<LookupRunOptions, 'onProgress'> {
    const o = this.options;
    const signal = input.signal
      ? AbortSignal.any([input.signal, this.lifetime.signal])
      : this.lifetime.signal;
    return {
      target: input.target,
      kind: input.kind,
      seeds: this.table.closest(input.target, o.k),
      localId: this.identity.nodeId,
      k: o.k,
      alpha: o.alpha,
      maxRpcs: o.lookupMaxRpcs,
      paths: input.paths,
      deadlineMs: input.deadlineMs ?? o.lookupDeadlineMs,
      clock: o.clock,
      signal,
      request: (to, body, options) => this.request(to, body, options),
      // A request unanswered for half its timeout stops holding one of the alpha slots (libtorrent's short timeout).
      // A peer with a bad record (negative reputation) gets no such patience: after the minimum timeout the lookup
      // turns to the next candidates, so misbehaving peers rank behind honest ones when they stall.
      slowAfterMs: (to) =>
        this.guard.reputation.score(to.host) < 0
          ? DEFAULTS.minTimeoutMs
          : Math.max(
              DEFAULTS.minTimeoutMs,
              this.timeouts.timeoutFor(endpointKey(to)) * DEFAULTS.slowRequestFraction,
            ),
    };
  }

  valueOps(options: { deadlineMs?: number } = {}): ValueOpsContext {
    return {
      k: this.options.k,
      rpcRetries: DEFAULTS.rpcRetries,
      now: () => this.options.clock.now(),
      lookup: (input) => this.lookup({ ...input, deadlineMs: options.deadlineMs }),
      request: (to, body, requestOptions) => this.request(to, body, requestOptions),
    };
  }

  /** A full bucket met a newcomer: ping its stalest entry; the newcomer waits in the replacement cache. */
  pingForEviction(entry: RoutingEntry): void {
    const key = idToHex(entry.id);
    if (this.evictionPings.has(key)) return;
    this.evictionPings.add(key);
    this.request(entry, { type: MessageType.PING }, { retries: 1 })
      .catch(() => undefined)
      .finally(() => this.evictionPings.delete(key));
  }

  stats() {
    const transport = this.transport.stats();
    const transportDrops: Record<string, number> = {
      transport_oversize: transport.oversizeDropped,
      transport_handler_error: transport.handlerErrors,
    };
    const rpcDrops = this.rpc.stats.drops;
    return {
      transport,
      session: this.session.stats?.(),
      rpc: this.rpc.stats.toJSON(),
      inflightRequests: this.rpc.inflight,
      drops: { ...transportDrops, ...this.drops.toJSON(), ...rpcDrops.toJSON() },
      droppedTotal:
        transport.oversizeDropped + transport.handlerErrors + this.drops.total() + rpcDrops.total(),
      tableSize: this.table.size(),
      store: this.store.stats(),
      lookups: { ...this.lookupTotals },
      refused: this.refusals.toJSON(),
      guard: this.guard.stats(),
      bootstrapBuffer: this.bootstrapRole?.stats(),
      ipDiversity: this.table.ipDiversityStats(),
    };
  }

  /**
   * Contacts in a NODES reply that the guard refuses (bogons in public mode, IDs failing the puzzle, banned
   * peers) are removed before a lookup sees them; bogons and puzzle failures count against the sender, whose
   * reply was then junk in part. A reply whose contacts all pass counts for it.
   */
  private screenNodes(reply: RpcReply<NodesMessage>): RpcReply<NodesMessage> {
    const contacts = reply.message.contacts;
    let kept: Contact[] | undefined;
    let junk = false;
    for (let i = 0; i < contacts.length; i++) {
      const refusal = this.guard.checkContact(contacts[i]);
      if (refusal === undefined) {
        kept?.push(contacts[i]);
        // Named by a peer, not yet verified: the buffer pings it before ever handing it out.
        this.bootstrapRole?.offer(contacts[i]);
        continue;
      }
      kept ??= contacts.slice(0, i);
      this.refusals.add(`contact_${refusal}`);
      if (refusal !== 'banned') junk = true;
    }
    this.guard.report(reply.from.host, junk ? 'junk_contacts' : 'useful_reply');
    return kept ? { ...reply, message: { ...reply.message, contacts: kept } } : reply;
  }

  /** Load shedding and the STORE budget, asked before a decrypted request is answered; a refusal is silence. */
  private guardedHandler(handler: RequestHandler): RequestHandler {
    return (request, sender) => {
      const refused = this.guard.admitRequest({
        kind: SHED_KIND[request.type],
        host: sender.from.host,
        knownPeer: this.table.get(sender.nodeId) !== undefined,
      });
      if (refused === undefined) return handler(request, sender);
      this.refusals.add(`request_${refused}`);
      return undefined;
    };
  }

  /** The reputation system banned a host: its entries leave the table now, not after failures pile up. */
  private evictHost(host: string): void {
    for (const entry of [...this.table.entries()]) {
      if (entry.host !== host) continue;
      this.table.remove(entry.id);
      this.emit('routingTableUpdated', {
        change: 'removed',
        contact: entry,
        reason: 'banned',
        size: this.table.size(),
      });
    }
  }

  private onContactFailed(id: NodeId): void {
    const { evicted, promoted } = this.table.recordFailure(id);
    const size = this.table.size();
    if (evicted) {
      this.emit('routingTableUpdated', {
        change: 'removed',
        contact: evicted,
        reason: 'evicted_failures',
        size,
      });
    }
    if (promoted)
      this.emit('routingTableUpdated', { change: 'added', contact: promoted, reason: 'promoted', size });
  }

  /** Every peer that proved itself alive (answered us, or asked us something) is offered to the table. */
  private onPeerActivity(sender: InboundPayload, rttMs: number | undefined): void {
    if (rttMs !== undefined) this.options.metrics.observe('kad_rpc_response_seconds', rttMs / 1000);
    if (sender.clientMode || this.lifetime.signal.aborted) return;
    const contact: Contact = {
      id: sender.nodeId,
      publicKey: sender.publicKey,
      host: sender.from.host,
      port: sender.from.port,
    };
    const refusal = this.guard.checkContact(contact);
    if (refusal !== undefined) {
      this.refusals.add(`table_${refusal}`);
      return;
    }
    this.bootstrapRole?.offer(contact);
    const result = this.table.observe(contact, rttMs === undefined ? undefined : { rttMs });
    const size = this.table.size();
    if (result.removed) {
      this.emit('routingTableUpdated', {
        change: 'removed',
        contact: result.removed,
        reason: 'replaced_same_address',
        size,
      });
    }
    if (result.entry && (result.outcome === 'added' || result.outcome === 'replaced_same_address')) {
      this.emit('nodeDiscovered', contact);
      this.emit('routingTableUpdated', { change: 'added', contact, reason: 'discovered', size });
    }
    if (result.promoted) {
      this.emit('routingTableUpdated', {
        change: 'added',
        contact: result.promoted,
        reason: 'promoted',
        size,
      });
    }
    if (result.pingCandidate) this.pingForEviction(result.pingCandidate);
  }
}
