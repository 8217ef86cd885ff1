import { EventEmitter, setMaxListeners } from 'node:events';
import { DEFAULTS } from '../config/defaults';
import { isKademliaError, KademliaError } from '../errors';
import { generateIdentity, type Identity } from '../id/identity';
import { keyToId } from '../id/key-id';
import { idToHex, isNodeId, randomIdAtPrefixLength, sharedPrefixLength, type NodeId } from '../id/node-id';
import { runLookup, streamLookup, type LookupOutcome, type LookupProgress } from '../lookup/lookup-runner';
import { ReasonCounter } from '../metrics/metrics';
import type { Contact } from '../routing/contact';
import { RoutingTable, type RoutingEntry } from '../routing/routing-table';
import type { RpcReply } from '../rpc/pending-request';
import { PeerTimeouts } from '../rpc/rtt-estimator';
import { RpcEngine, type RequestBody, type RequestOptions } from '../rpc/rpc-engine';
import { PlaintextSessionLayer } from '../session/plaintext-session';
import type { InboundPayload, PeerAddress } from '../session/session-layer';
import { PublishedRecords } from '../store/published-records';
import { RecordStore } from '../store/record-store';
import { WriteTokens } from '../store/write-tokens';
import { endpointKey, type DatagramTransport } from '../transport/transport';
import { UdpTransport } from '../transport/udp-transport';
import { MessageType, type PongMessage } from '../wire/messages';
import { joinNetwork, type JoinHost } from './join';
import { resolveBootstrapEntries, type BootstrapEntry } from './bootstrap-entries';
import type { KademliaEventMap, LookupCompletedEvent } from './events';
import { PeriodicTasks, type PeriodicTask } from './periodic-tasks';
import { loadSnapshot, saveSnapshot } from '../routing/snapshot';
import { resolveOptions, type KademliaOptions, type ResolvedOptions } from './options';
import { createRequestHandler } from './request-handlers';
import { findRecord, putToClosest, type StoreReport, type ValueOpsContext } from './value-ops';

export interface OperationOptions {
  signal?: AbortSignal;
  /** Overrides the lookup deadline for this call. */
  deadlineMs?: number;
}

export interface StartReport {
  readonly bootstrapped: boolean;
  readonly answered: number;
  readonly tried: number;
  readonly tableSize: number;
}

/** Everything that exists only while the node runs; created by start(), dropped by stop(). */
interface Running {
  readonly identity: Identity;
  readonly transport: DatagramTransport;
  readonly session: PlaintextSessionLayer;
  readonly rpc: RpcEngine;
  readonly table: RoutingTable;
  readonly store: RecordStore;
  readonly published: PublishedRecords;
  readonly tokens: WriteTokens;
  readonly timeouts: PeerTimeouts;
  readonly maintenance: PeriodicTasks;
  /** Aborted by stop(): ends every lookup and request the node runs. */
  readonly lifetime: AbortController;
}

/**
 * A Kademlia DHT node: the public façade over routing table, lookups, value store and transport.
 *
 *   const dht = new KademliaDHT({ bindPort: 0 });
 *   await dht.start(['dht1.example.org:6881']);
 *   await dht.store('greeting', 'hello');
 *   const value = await dht.findValue('greeting');
 *   await dht.stop();
 */
export class KademliaDHT extends EventEmitter<KademliaEventMap> {
  readonly options: ResolvedOptions;
  private running?: Running;
  private readonly drops = new ReasonCounter<string>();
  private readonly lookupTotals = { node: 0, value: 0, converged: 0, other: 0 };
  private readonly evictionPings = new Set<string>();

  constructor(options: KademliaOptions = {}) {
    super();
    this.options = resolveOptions(options);
  }

  /** Our NodeId (available after start()). */
  get nodeId(): NodeId {
    return this.state().identity.nodeId;
  }

  get publicKey(): Uint8Array {
    return this.state().identity.publicKey;
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** The bound UDP address, e.g. { address: '127.0.0.1', port: 6881 }. */
  address(): { address: string; port: number } {
    const bound = this.state().transport.address();
    return { address: bound.host, port: bound.port };
  }

  /**
   * Binds the socket and joins the network through the bootstrap entries (an empty list starts the first node
   * of a new network). Resolves once joined, or with bootstrapped=false after `bootstrapAttempts` rounds with no
   * answer — the node keeps serving and retrying with backoff, and emits 'bootstrapped' when it gets in.
   */
  async start(bootstrapNodes: readonly BootstrapEntry[] = []): Promise<StartReport> {
    if (this.running) throw new KademliaError('node already started', 'ALREADY_STARTED');
    const o = this.options;
    const identity = o.identity ?? generateIdentity();
    const transport = o.transport ?? new UdpTransport({ bindAddress: o.bindAddress, port: o.bindPort });
    const session = new PlaintextSessionLayer({ transport, identity, clientMode: o.clientMode });
    session.onDrop((reason) => this.drops.add(`session_${reason}`));
    const now = () => o.clock.now();
    const table = new RoutingTable({
      localId: identity.nodeId,
      now,
      k: o.k,
      splitRelaxation: o.splitRelaxation,
      replacementCacheSize: o.replacementCacheSize,
      maxFailures: o.maxFailures,
    });
    const store = new RecordStore({
      now,
      maxRecords: o.maxStoreRecords,
      maxBytes: o.maxStoreBytes,
      maxRecordsPerIp: o.maxRecordsPerIp,
      maxValueBytes: o.maxValueBytes,
    });
    const timeouts = new PeerTimeouts({
      maxPeers: DEFAULTS.rttCacheSize,
      initialTimeoutMs: DEFAULTS.initialTimeoutMs,
      minTimeoutMs: DEFAULTS.minTimeoutMs,
      maxTimeoutMs: DEFAULTS.maxTimeoutMs,
    });
    const tokens = new WriteTokens({ now, rotationMs: DEFAULTS.tokenRotationMs });
    const rpc = new RpcEngine({
      session,
      clock: o.clock,
      timeouts,
      maxInflight: o.maxInflightRequests,
      handleRequest: createRequestHandler({
        localId: identity.nodeId,
        table,
        store,
        tokens,
        clock: o.clock,
        k: o.k,
        maxPayloadBytes: session.maxPayloadBytes,
        self: () => this.selfContact(),
        onStored: (record, sender, origin) =>
          this.emit('dataStored', {
            key: record.key,
            bytes: record.value.length,
            ttlSeconds: record.ttlSeconds,
            from: sender.from,
            origin,
          }),
      }),
      onPeerActivity: (sender, info) => this.onPeerActivity(sender, info.rttMs),
    });
    const running: Running = {
      identity,
      transport,
      session,
      rpc,
      table,
      store,
      tokens,
      timeouts,
      published: new PublishedRecords({ now, maxRecords: o.maxStoreRecords }),
      maintenance: new PeriodicTasks({
        clock: o.clock,
        tickMs: o.maintenanceIntervalMs,
        tasks: this.maintenanceTasks(),
        onError: (task, err) =>
          this.emit('warning', new Error(`maintenance task ${task} failed: ${String(err)}`)),
      }),
      lifetime: new AbortController(),
    };
    // Every running lookup listens on the lifetime signal; hundreds at once are normal, not a leak.
    setMaxListeners(0, running.lifetime.signal);
    this.running = running;
    try {
      await transport.listen();
    } catch (err) {
      this.running = undefined;
      rpc.close();
      session.close();
      throw err;
    }
    running.maintenance.start();
    return joinNetwork(this.joinHost(running), { entries: bootstrapNodes, attempts: o.bootstrapAttempts });
  }

  /** Closes sockets, aborts every lookup, stops every timer, writes the snapshot if configured. */
  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.lifetime.abort();
    await running.maintenance.stop();
    await this.writeSnapshot(running).catch((err) => this.emit('warning', err as Error));
    this.running = undefined;
    running.rpc.close();
    running.session.close();
    await running.transport.close();
    this.evictionPings.clear();
  }

  /** The k closest live nodes to target (a NodeId, or any key, which is hashed with SHA-1). */
  async findNode(target: NodeId | string, options: OperationOptions = {}): Promise<Contact[]> {
    const outcome = await this.runNodeLookup({ target: toTarget(target), kind: 'node', ...options });
    return outcome.closest;
  }

  /** findNode with the whole outcome: the contacts plus how the lookup went (requests, hops, duration, reason). */
  lookup(target: NodeId | string, options: OperationOptions = {}): Promise<LookupOutcome> {
    return this.runNodeLookup({ target: toTarget(target), kind: 'node', ...options });
  }

  /** The same lookup as an async iterable of answers as they arrive; breaking out aborts it. */
  findNodeStream(
    target: NodeId | string,
    options: OperationOptions = {},
  ): AsyncGenerator<LookupProgress, LookupOutcome, undefined> {
    const running = this.state();
    return streamLookup(this.lookupOptions(running, { target: toTarget(target), kind: 'node', ...options }));
  }

  /** Stores value under key (SHA-1 of key) on the k closest nodes and keeps republishing it while running. */
  async store(
    key: string | Uint8Array,
    value: string | Uint8Array,
    options: OperationOptions & { ttlMs?: number } = {},
  ): Promise<StoreReport> {
    const running = this.state();
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    if (bytes.length > this.options.maxValueBytes) {
      throw new KademliaError(
        `value is ${bytes.length} bytes; at most ${this.options.maxValueBytes}`,
        'VALUE_TOO_LARGE',
      );
    }
    const ttlMs = Math.min(options.ttlMs ?? this.options.recordTtlMs, DEFAULTS.maxRecordTtlMs);
    const keyId = keyToId(key);
    running.published.add({ key: keyId, value: bytes, ttlMs });
    running.store.put({ key: keyId, value: bytes, ttlMs, origin: 'publish' });
    return putToClosest(this.valueOps(options), {
      record: { key: keyId, value: bytes, ttlSeconds: Math.ceil(ttlMs / 1000) },
      signal: options.signal,
    });
  }

  /** The value stored under key (SHA-1 of key), or null when no node has it. */
  async findValue(key: string | Uint8Array, options: OperationOptions = {}): Promise<Uint8Array | null> {
    const running = this.state();
    const keyId = keyToId(key);
    const local = running.store.get(keyId);
    if (local) return local.value;
    const found = await findRecord(this.valueOps(options), { key: keyId, signal: options.signal });
    return found ? found.record.value : null;
  }

  /** Asks one node whether it is alive; resolves with its contact, RTT and how it sees our address. */
  async ping(
    peer: PeerAddress | BootstrapEntry,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ contact: Contact; rttMs: number; observed: { host: string; port: number } }> {
    const running = this.state();
    const address = await this.toPeerAddress(peer);
    const reply = await running.rpc.request<PongMessage>(
      address,
      { type: MessageType.PING },
      { retries: DEFAULTS.rpcRetries, signal: options.signal },
    );
    return { contact: reply.from, rttMs: reply.rttMs, observed: reply.message.observed };
  }

  /** Runs a replication round now (normally hourly): every record held goes to the current k closest. */
  async replicateNow(): Promise<{ records: number }> {
    return this.replicate(this.state(), 0);
  }

  /** Whether this node holds a live record for key (SHA-1 of key), e.g. as one of its k closest. */
  hasRecord(key: string | Uint8Array): boolean {
    return this.state().store.get(keyToId(key)) !== undefined;
  }

  getRoutingTableInfo() {
    const running = this.state();
    return {
      nodeId: idToHex(running.identity.nodeId),
      size: running.table.size(),
      buckets: running.table.bucketInfo(),
      contacts: [...running.table.entries()].map(publicEntry),
    };
  }

  /** Counters for dashboards and tests: RPC, drops by reason, store, lookups. */
  stats() {
    const running = this.state();
    const transport = running.transport.stats();
    const transportDrops = {
      transport_oversize: transport.oversizeDropped,
      transport_handler_error: transport.handlerErrors,
    };
    return {
      transport,
      rpc: running.rpc.stats.toJSON(),
      inflightRequests: running.rpc.inflight,
      drops: { ...transportDrops, ...this.drops.toJSON(), ...running.rpc.stats.drops.toJSON() },
      droppedTotal:
        transport.oversizeDropped +
        transport.handlerErrors +
        this.drops.total() +
        running.rpc.stats.drops.total(),
      tableSize: running.table.size(),
      store: running.store.stats(),
      lookups: { ...this.lookupTotals },
    };
  }

  // ---------------------------------------------------------------------------------------------

  private state(): Running {
    if (!this.running) throw new KademliaError('node is not started', 'NOT_STARTED');
    return this.running;
  }

  private selfContact(): Contact | undefined {
    const running = this.running;
    if (!running) return undefined;
    const bound = running.transport.address();
    return {
      id: running.identity.nodeId,
      publicKey: running.identity.publicKey,
      host: bound.host,
      port: bound.port,
    };
  }

  private async runNodeLookup(input: {
    target: NodeId;
    kind: 'node' | 'value';
    signal?: AbortSignal;
    deadlineMs?: number;
    onProgress?: (progress: LookupProgress) => 'stop' | void;
  }): Promise<LookupOutcome> {
    const running = this.state();
    const outcome = await runLookup({ ...this.lookupOptions(running, input), onProgress: input.onProgress });
    running.table.touch(input.target);
    this.lookupTotals[input.kind]++;
    this.lookupTotals[outcome.finishReason === 'converged' ? 'converged' : 'other']++;
    const event: LookupCompletedEvent = {
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
    };
    this.options.metrics.observe('kad_lookup_duration_seconds', outcome.durationMs / 1000, {
      kind: input.kind,
    });
    this.options.metrics.increment('kad_lookups_total', { kind: input.kind, result: outcome.finishReason });
    this.emit('lookupCompleted', event);
    return outcome;
  }

  private lookupOptions(
    running: Running,
    input: { target: NodeId; kind: 'node' | 'value'; signal?: AbortSignal; deadlineMs?: number },
  ) {
    const o = this.options;
    const signal = input.signal
      ? AbortSignal.any([input.signal, running.lifetime.signal])
      : running.lifetime.signal;
    return {
      target: input.target,
      kind: input.kind,
      seeds: running.table.closest(input.target, o.k),
      localId: running.identity.nodeId,
      k: o.k,
      alpha: o.alpha,
      maxRpcs: o.lookupMaxRpcs,
      deadlineMs: input.deadlineMs ?? o.lookupDeadlineMs,
      clock: o.clock,
      signal,
      request: (to: Contact, body: RequestBody, options: RequestOptions) =>
        this.requestContact(to, body, options),
      slowAfterMs: (to: Contact) =>
        Math.max(
          DEFAULTS.minTimeoutMs,
          running.timeouts.timeoutFor(endpointKey(to)) * DEFAULTS.slowRequestFraction,
        ),
    };
  }

  private valueOps(options: OperationOptions): ValueOpsContext {
    return {
      k: this.options.k,
      rpcRetries: DEFAULTS.rpcRetries,
      now: () => this.options.clock.now(),
      lookup: (input) => this.runNodeLookup({ ...input, deadlineMs: options.deadlineMs }),
      request: (to, body, requestOptions) => this.requestContact(to, body, requestOptions),
    };
  }

  /** A request to a known contact; a timeout counts as a failure against its routing-table entry. */
  private async requestContact(to: Contact, body: RequestBody, options: RequestOptions): Promise<RpcReply> {
    // No need to tie requests to the node's lifetime: stop() closes the RPC engine, which rejects them all.
    const running = this.state();
    try {
      return await running.rpc.request({ endpoint: to, publicKey: to.publicKey }, body, options);
    } catch (err) {
      if (isKademliaError(err, 'RPC_TIMEOUT')) this.onContactFailed(to.id);
      throw err;
    }
  }

  private onContactFailed(id: NodeId): void {
    const running = this.running;
    if (!running) return;
    const { evicted, promoted } = running.table.recordFailure(id);
    const size = running.table.size();
    if (evicted)
      this.emit('routingTableUpdated', {
        change: 'removed',
        contact: evicted,
        reason: 'evicted_failures',
        size,
      });
    if (promoted)
      this.emit('routingTableUpdated', { change: 'added', contact: promoted, reason: 'promoted', size });
  }

  /** Every peer that proved itself alive (answered us, or asked us something) is offered to the table. */
  private onPeerActivity(sender: InboundPayload, rttMs: number | undefined): void {
    const running = this.running;
    if (!running || sender.clientMode) return;
    const contact: Contact = {
      id: sender.nodeId,
      publicKey: sender.publicKey,
      host: sender.from.host,
      port: sender.from.port,
    };
    const result = running.table.observe(contact, rttMs === undefined ? undefined : { rttMs });
    const size = running.table.size();
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

  /** A full bucket met a newcomer: ping its stalest entry; the newcomer waits in the replacement cache. */
  private pingForEviction(entry: RoutingEntry): void {
    const key = idToHex(entry.id);
    if (this.evictionPings.has(key)) return;
    this.evictionPings.add(key);
    this.requestContact(entry, { type: MessageType.PING }, { retries: 1 })
      .catch(() => undefined)
      .finally(() => this.evictionPings.delete(key));
  }

  private async toPeerAddress(peer: PeerAddress | BootstrapEntry): Promise<PeerAddress> {
    if (typeof peer === 'object' && 'endpoint' in peer) return peer;
    const { peers, failures } = await resolveBootstrapEntries([peer]);
    if (peers.length === 0) {
      throw new KademliaError(
        `cannot resolve ${failures[0]?.entry ?? String(peer)}`,
        'BOOTSTRAP_RESOLVE_FAILED',
      );
    }
    return peers[0];
  }

  private joinHost(running: Running): JoinHost {
    return {
      clock: this.options.clock,
      retryMinMs: this.options.bootstrapRetryMinMs,
      retryMaxMs: this.options.bootstrapRetryMaxMs,
      signal: running.lifetime.signal,
      tableSize: () => running.table.size(),
      snapshotPeers: async () => {
        if (!this.options.snapshotPath) return [];
        const contacts = await loadSnapshot(this.options.snapshotPath).catch((err) => {
          this.emit('warning', err as Error);
          return [];
        });
        return contacts.map((c) => ({ endpoint: { host: c.host, port: c.port }, publicKey: c.publicKey }));
      },
      ping: (peer, signal) => running.rpc.request(peer, { type: MessageType.PING }, { retries: 1, signal }),
      populate: () => this.populateTable(running),
      emit: this.emit.bind(this) as JoinHost['emit'],
    };
  }

  /**
   * Fills a fresh table: a self-lookup finds our neighbourhood, then one lookup per log-distance range farther
   * than our closest neighbour fills the far buckets (the paper's join procedure).
   */
  private async populateTable(running: Running): Promise<void> {
    const localId = running.identity.nodeId;
    await this.findNode(localId).catch(() => undefined);
    if (!this.options.joinRefresh) return;
    const nearest = running.table.closest(localId, 1)[0];
    if (!nearest) return;
    const depth = sharedPrefixLength(localId, nearest.id);
    const targets = Array.from({ length: depth }, (_, cpl) => randomIdAtPrefixLength(localId, cpl));
    await mapBounded(targets, DEFAULTS.alpha, (target) => this.findNode(target).catch(() => undefined));
  }

  private maintenanceTasks(): PeriodicTask[] {
    const o = this.options;
    const run = (fn: (running: Running) => Promise<unknown> | unknown) => () => {
      const running = this.running;
      return running && !running.lifetime.signal.aborted ? fn(running) : undefined;
    };
    const tasks: PeriodicTask[] = [
      { name: 'expire', everyMs: o.maintenanceIntervalMs, run: run((r) => r.store.expire()) },
      {
        name: 'refresh-buckets',
        everyMs: o.maintenanceIntervalMs,
        run: run((r) =>
          mapBounded(r.table.refreshTargets(o.bucketRefreshMs), 1, (t) =>
            this.findNode(t).catch(() => undefined),
          ),
        ),
      },
      {
        name: 'self-lookup',
        everyMs: o.selfLookupMs,
        run: run((r) => this.findNode(r.identity.nodeId).catch(() => undefined)),
      },
      { name: 'revalidate', everyMs: DEFAULTS.revalidateMs, run: run((r) => this.revalidateStalest(r)) },
      {
        name: 'replicate',
        everyMs: Math.min(o.replicateMs, 60_000),
        run: run((r) => this.replicate(r, o.replicateMs)),
      },
      { name: 'republish', everyMs: Math.min(o.republishMs, 60_000), run: run((r) => this.republish(r)) },
    ];
    if (o.snapshotPath) {
      tasks.push({ name: 'snapshot', everyMs: DEFAULTS.snapshotMs, run: run((r) => this.writeSnapshot(r)) });
    }
    return tasks;
  }

  /**
   * Pings the entry heard from least recently (if not heard from within recentlySeenMs). Independent of traffic,
   * this finds dead entries before lookups trip over them (discv5's revalidation); failures evict as usual.
   */
  private async revalidateStalest(running: Running): Promise<void> {
    const stalest = running.table.stalest();
    if (!stalest || this.options.clock.now() - stalest.lastSeen < DEFAULTS.recentlySeenMs) return;
    await this.requestContact(stalest, { type: MessageType.PING }, { retries: 1 }).catch(() => undefined);
  }

  /** Pushes records we hold to the current k closest (hourly), so they survive the churn of their holders. */
  private async replicate(running: Running, intervalMs: number): Promise<{ records: number }> {
    const due = running.store.dueForReplication(intervalMs, DEFAULTS.replicationBatch);
    await mapBounded(due, DEFAULTS.alpha, async (record) => {
      const ttlSeconds = Math.floor((record.expiresAt - this.options.clock.now()) / 1000);
      if (ttlSeconds < 1) return;
      await putToClosest(this.valueOps({}), {
        record: { key: record.key, value: record.value, ttlSeconds },
      }).catch(() => undefined);
      running.store.markReplicated(record.key);
    });
    return { records: due.length };
  }

  /** The publisher re-stores its own records before their TTL runs out, for as long as it runs. */
  private async republish(running: Running): Promise<void> {
    const due = running.published.dueForRepublish(this.options.republishMs);
    await mapBounded(due.slice(0, DEFAULTS.replicationBatch), DEFAULTS.alpha, async (record) => {
      const ttlSeconds = Math.ceil(record.ttlMs / 1000);
      running.store.put({ key: record.key, value: record.value, ttlMs: record.ttlMs, origin: 'publish' });
      await putToClosest(this.valueOps({}), {
        record: { key: record.key, value: record.value, ttlSeconds },
      }).catch(() => undefined);
      running.published.markRepublished(record.key);
    });
  }

  private async writeSnapshot(running: Running): Promise<void> {
    if (!this.options.snapshotPath) return;
    await saveSnapshot(this.options.snapshotPath, [...running.table.entries()]);
  }
}

/** Runs fn over items with at most `limit` in flight. */
async function mapBounded<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
}

function toTarget(target: NodeId | string): NodeId {
  return isNodeId(target) ? target : keyToId(target);
}

function publicEntry(entry: RoutingEntry) {
  return {
    id: idToHex(entry.id),
    host: entry.host,
    port: entry.port,
    rttMs: entry.rttMs,
    failures: entry.failures,
    firstSeen: entry.firstSeen,
    lastSeen: entry.lastSeen,
  };
}
