import { EventEmitter } from 'node:events';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { keyToId } from '../id/key-id';
import { idToHex, isNodeId, type NodeId } from '../id/node-id';
import { streamLookup, type LookupOutcome, type LookupProgress } from '../lookup/lookup-runner';
import type { Contact } from '../routing/contact';
import type { RoutingEntry } from '../routing/routing-table';
import type { PeerAddress } from '../session/session-layer';
import { MessageType, type PongMessage } from '../wire/messages';
import { parseBootstrapEntry, resolveBootstrapEntries, type BootstrapEntry } from './bootstrap-entries';
import type { KademliaEventMap } from './events';
import { joinNetwork, rejoinOnce, type JoinHost, type JoinReport } from './join';
import { NodeMaintenance } from './maintenance';
import { NodeRuntime } from './node-runtime';
import { resolveOptions, type KademliaOptions, type ResolvedOptions } from './options';
import { PeriodicTasks } from './periodic-tasks';
import { findRecord, putToClosest, type StoreReport } from './value-ops';
import type { SignedRecord } from '../store/signed-records';
import { getSignedValue, putSignedValue, type PutSignedInput, type SignedStoreReport } from './signed-values';

export interface OperationOptions {
  signal?: AbortSignal;
  /** Overrides the lookup deadline for this call. */
  deadlineMs?: number;
  /**
   * Overrides the node's lookupMode for this call: true runs S/Kademlia disjoint paths (secure mode), false one
   * path (standard mode).
   */
  secure?: boolean;
}

export type StartReport = JoinReport;

export type MaintenanceTaskName =
  | 'expire'
  | 'refresh-buckets'
  | 'self-lookup'
  | 'revalidate'
  | 'replicate'
  | 'republish'
  | 'snapshot'
  | 'verify-buffer';

interface Running {
  readonly runtime: NodeRuntime;
  readonly maintenance: NodeMaintenance;
  readonly periodic: PeriodicTasks;
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

  constructor(options: KademliaOptions = {}) {
    super();
    this.options = resolveOptions(options);
  }

  /** Our NodeId (available after start()). */
  get nodeId(): NodeId {
    return this.node().identity.nodeId;
  }

  get publicKey(): Uint8Array {
    return this.node().identity.publicKey;
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** The bound UDP address, e.g. { address: '127.0.0.1', port: 6881 }. */
  address(): { address: string; port: number } {
    const bound = this.node().transport.address();
    return { address: bound.host, port: bound.port };
  }

  /**
   * Binds the socket and joins the network through the bootstrap entries (an empty list starts the first node
   * of a new network). Resolves once joined, or with bootstrapped=false after `bootstrapAttempts` rounds with no
   * answer — the node keeps serving and retrying with backoff, and emits 'bootstrapped' when it gets in.
   */
  async start(bootstrapNodes: readonly BootstrapEntry[] = []): Promise<StartReport> {
    if (this.running) throw new KademliaError('node already started', 'ALREADY_STARTED');
    // Malformed entries are a configuration error: refuse them before binding anything.
    bootstrapNodes.forEach(parseBootstrapEntry);
    const runtime = new NodeRuntime(this.options, this.emit.bind(this) as NodeRuntime['emit']);
    const maintenance = new NodeMaintenance(runtime);
    const periodic = new PeriodicTasks({
      clock: this.options.clock,
      tickMs: this.options.maintenanceIntervalMs,
      tasks: maintenance.tasks(),
      onError: (task, err) =>
        this.emit('warning', new Error(`maintenance task ${task} failed: ${String(err)}`)),
    });
    await runtime.listen();
    await maintenance.restoreBuffer().catch((err) => this.emit('warning', err as Error));
    this.running = { runtime, maintenance, periodic };
    // 'external': the application's scheduler (e.g. @nestjs/schedule in the bootstrap service) drives the same
    // tasks through runMaintenance(), so every timer of the process is visible in one place.
    if (this.options.maintenance === 'internal') periodic.start();
    const host = this.joinHost(this.running);
    try {
      const report = await joinNetwork(host, {
        entries: bootstrapNodes,
        attempts: this.options.bootstrapAttempts,
      });
      if (bootstrapNodes.length > 0) {
        runtime.rejoin = async () => {
          await rejoinOnce(host, bootstrapNodes);
        };
      }
      return report;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Closes sockets, aborts every lookup, stops every timer, writes the snapshot if configured. */
  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    running.runtime.lifetime.abort();
    await running.periodic.stop();
    await running.maintenance.writeSnapshot().catch((err) => this.emit('warning', err as Error));
    await running.runtime.close();
  }

  /** The k closest live nodes to target (a 20-byte NodeId, or any other key, which is hashed with SHA-1). */
  async findNode(target: NodeId | string, options: OperationOptions = {}): Promise<Contact[]> {
    return (await this.lookup(target, options)).closest;
  }

  /** findNode with the whole outcome: the contacts plus how the lookup went (requests, hops, duration, reason). */
  lookup(target: NodeId | string, options: OperationOptions = {}): Promise<LookupOutcome> {
    return this.node().lookup({
      target: toTarget(target),
      kind: 'node',
      ...options,
      ...this.pathsFor(options),
    });
  }

  /** The same lookup as an async iterable of answers as they arrive; breaking out aborts it. */
  findNodeStream(
    target: NodeId | string,
    options: OperationOptions = {},
  ): AsyncGenerator<LookupProgress, LookupOutcome, undefined> {
    return streamLookup({
      ...this.node().lookupOptions({ target: toTarget(target), kind: 'node', ...options }),
      ...this.pathsFor(options),
    });
  }

  /** Stores value under key (SHA-1 of key) on the k closest nodes and keeps republishing it while running. */
  async store(
    key: string | Uint8Array,
    value: string | Uint8Array,
    options: OperationOptions & { ttlMs?: number } = {},
  ): Promise<StoreReport> {
    const node = this.node();
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    if (bytes.length > this.options.maxValueBytes) {
      throw new KademliaError(
        `value is ${bytes.length} bytes; at most ${this.options.maxValueBytes}`,
        'VALUE_TOO_LARGE',
      );
    }
    const ttlMs = Math.min(options.ttlMs ?? this.options.recordTtlMs, DEFAULTS.maxRecordTtlMs);
    const keyId = keyToId(key);
    if (!node.published.add({ key: keyId, value: bytes, ttlMs })) {
      this.emit('warning', new Error('published-record list is full; this value will not be republished'));
    }
    node.store.put({ key: keyId, value: bytes, ttlMs, origin: 'publish' });
    return putToClosest(
      { ...node.valueOps(options), ...this.pathsFor(options) },
      {
        record: { key: keyId, value: bytes, ttlSeconds: Math.ceil(ttlMs / 1000) },
        signal: options.signal,
      },
    );
  }

  /** The value stored under key (SHA-1 of key), or null when no node has it. */
  async findValue(key: string | Uint8Array, options: OperationOptions = {}): Promise<Uint8Array | null> {
    const node = this.node();
    const keyId = keyToId(key);
    const local = node.store.get(keyId);
    if (local) return local.value;
    const found = await findRecord(
      { ...node.valueOps(options), ...this.pathsFor(options) },
      { key: keyId, signal: options.signal },
    );
    return found ? found.record.value : null;
  }

  /**
   * Publishes a signed mutable value (docs/signed-records.md): signed with the publisher's Ed25519 key pair (or
   * 32-byte secret seed) as version `seq` under SHA-1(publicKey ‖ salt), stored on the k closest nodes and
   * republished while this node runs. Holders keep only the highest valid seq, so a new value needs a higher seq
   * (omit seq to use one more than the highest found). Value + salt ≤ 900 bytes.
   */
  async putSigned(
    input: PutSignedInput,
    options: OperationOptions & { ttlMs?: number } = {},
  ): Promise<SignedStoreReport> {
    const report = await putSignedValue(this.node(), input, { ...options, ...this.pathsFor(options) });
    if (report.local === 'ok' && !report.republishing) {
      this.emit('warning', new Error('published-record list is full; this value will not be republished'));
    }
    return report;
  }

  /**
   * The highest valid version under (publicKey, salt) that any of the closest nodes holds (seq ≥ minSeq when
   * given), or undefined. Every answer is verified; forged ones are dropped, and close nodes holding an older
   * version are sent the newest (read repair).
   */
  getSigned(
    publicKey: Uint8Array,
    options: OperationOptions & { salt?: string | Uint8Array; minSeq?: number } = {},
  ): Promise<SignedRecord | undefined> {
    return getSignedValue(this.node(), publicKey, { ...options, ...this.pathsFor(options) });
  }

  /** Asks one node whether it is alive; resolves with its contact, RTT and how it sees our address. */
  async ping(
    peer: PeerAddress | BootstrapEntry,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ contact: Contact; rttMs: number; observed: { host: string; port: number } }> {
    const node = this.node();
    const address = await toPeerAddress(peer);
    const reply = await node.rpc.request<PongMessage>(
      address,
      { type: MessageType.PING },
      { retries: DEFAULTS.rpcRetries, signal: options.signal },
    );
    return { contact: reply.from, rttMs: reply.rttMs, observed: reply.message.observed };
  }

  /** Runs a replication round now (normally hourly): every record held goes to the current k closest. */
  async replicateNow(): Promise<{ records: number }> {
    const running = this.running;
    if (!running) throw notStarted();
    return running.maintenance.replicate(0);
  }

  /** The maintenance tasks and their periods (what maintenance: 'external' callers must schedule). */
  maintenanceSchedule(): Array<{ name: MaintenanceTaskName; everyMs: number }> {
    const running = this.running;
    if (!running) throw notStarted();
    return running.maintenance
      .tasks()
      .map((t) => ({ name: t.name as MaintenanceTaskName, everyMs: t.everyMs }));
  }

  /** Runs one maintenance task now: bucket refresh, replication, republish, snapshot, expiry, ... */
  async runMaintenance(name: MaintenanceTaskName): Promise<void> {
    const running = this.running;
    if (!running) throw notStarted();
    const task = running.maintenance.tasks().find((t) => t.name === name);
    if (!task) throw new KademliaError(`no maintenance task ${name} on this node`, 'CONFIG_INVALID');
    await task.run();
  }

  /** Whether this node holds a live record for key (SHA-1 of key), e.g. as one of its k closest. */
  hasRecord(key: string | Uint8Array): boolean {
    return this.node().store.get(keyToId(key)) !== undefined;
  }

  getRoutingTableInfo() {
    const node = this.node();
    return {
      nodeId: idToHex(node.identity.nodeId),
      size: node.table.size(),
      buckets: node.table.bucketInfo(),
      contacts: [...node.table.entries()].map(publicEntry),
    };
  }

  /** Counters for dashboards and tests: transport, RPC, drops by reason, store, lookups. */
  stats() {
    return this.node().stats();
  }

  /** Disjoint lookup paths for one call: the node's lookupMode unless the call says `secure`. */
  private pathsFor(options: OperationOptions): { paths: number } {
    const secure =
      options.secure === undefined ? this.options.lookupMode === 'secure' : options.secure === true;
    return { paths: secure ? this.options.disjointPaths : 1 };
  }

  private node(): NodeRuntime {
    if (!this.running) throw notStarted();
    return this.running.runtime;
  }

  private joinHost({ runtime, maintenance }: Running): JoinHost {
    return {
      clock: this.options.clock,
      retryMinMs: this.options.bootstrapRetryMinMs,
      retryMaxMs: this.options.bootstrapRetryMaxMs,
      signal: runtime.lifetime.signal,
      tableSize: () => runtime.table.size(),
      snapshotPeers: () =>
        maintenance.snapshotPeers().catch((err) => {
          this.emit('warning', err as Error);
          return [];
        }),
      ping: (peer, signal) => runtime.rpc.request(peer, { type: MessageType.PING }, { retries: 1, signal }),
      populate: () => maintenance.populate(),
      emit: this.emit.bind(this) as JoinHost['emit'],
    };
  }
}

function notStarted(): KademliaError {
  return new KademliaError('node is not started', 'NOT_STARTED');
}

function toTarget(target: NodeId | string): NodeId {
  return isNodeId(target) ? target : keyToId(target);
}

async function toPeerAddress(peer: PeerAddress | BootstrapEntry): Promise<PeerAddress> {
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
