import { performance } from 'node:perf_hooks';
import {
  DEFAULTS,
  KademliaDHT,
  MemoryNetwork,
  VirtualClock,
  type Endpoint,
  type Identity,
  type NodeId,
} from '../../libs/kademlia/src';
import { createRandom } from '../../libs/kademlia/src/sim/random';
import { convergedTableIndices } from './converged-table';
import { LazyTransport } from './lazy-transport';
import type { SimulatedNodes } from './lookup-sample';
import { seededIdentity } from './seeded-identity';
import { routingTableOf } from './table-access';

/**
 * 'paper': k contacts per distance range (the table of the Kademlia paper, what a complete join leaves).
 * 'full': every bucket of kadfleet's relaxed-split table full (a node that has run for hours of bucket refreshes).
 */
export type TableModel = 'paper' | 'full';

export interface ConvergedNetworkOptions {
  readonly size: number;
  readonly tableModel: TableModel;
  readonly seed: number;
  readonly clock: VirtualClock;
  readonly network: MemoryNetwork;
}

/** Build work done so far, for the benchmark's report (node count, real time spent building tables). */
export interface BuildStats {
  readonly nodesBuilt: number;
  readonly tableEntries: number;
  /** Contacts of the converged tables the tables did not take (expected 0). */
  readonly notAdmitted: number;
  readonly buildMs: number;
  readonly droppedWhileBuilding: number;
}

interface BuiltNode {
  readonly node: KademliaDHT;
  readonly transport: LazyTransport;
  readonly ready: Promise<KademliaDHT>;
}

/** Packet port of every simulated node; each node has its own IP. */
export const SIM_PORT = 6881;
/**
 * Session layer of the simulated nodes. The simulator measures routing (messages, hops, exactness), which sessions
 * do not change; plaintext keeps 100,000 nodes' handshakes out of the real-time budget. Switch to 'encrypted' to
 * measure the simulator's speed with sessions.
 */
export const SIM_SESSIONS = 'plaintext' as const;
/** Maintenance stays out of the measurement: no revalidation or refresh traffic during the run's virtual minutes. */
export const MAINTENANCE_TICK_MS = 60 * 60_000;

/**
 * A network of `size` real KademliaDHT nodes on the simulator's MemoryNetwork whose routing tables are the
 * converged tables of convergedTableIndices(), built directly instead of by joining one by one.
 *
 * Nodes are built when first needed: when someone sends them a packet, or when the benchmark picks one to start
 * a lookup. A node's table depends only on the ID set and its own index (its own seeded draw), so a node built
 * late holds exactly what it would have held had every node been built up front; a node nobody talks to cannot
 * change any result. This keeps a 100,000-node network within memory: only the nodes lookups reach exist.
 */
export class ConvergedNetwork implements SimulatedNodes {
  readonly size: number;
  /** Every node ID, in index order. */
  readonly ids: NodeId[];
  private readonly identities: Identity[];
  private readonly sortedIds: NodeId[];
  /** sortedIds position -> node index. */
  private readonly indexAtSorted: Int32Array;
  private readonly indexByHost = new Map<string, number>();
  private readonly nodes = new Map<number, BuiltNode>();
  private readonly seed: number;
  private readonly splitRelaxation: number;
  private readonly clock: VirtualClock;
  private readonly network: MemoryNetwork;
  private built = { nodesBuilt: 0, tableEntries: 0, notAdmitted: 0, buildMs: 0 };

  constructor(options: ConvergedNetworkOptions) {
    this.size = options.size;
    this.seed = options.seed;
    this.splitRelaxation = options.tableModel === 'full' ? DEFAULTS.splitRelaxation : 1;
    this.clock = options.clock;
    this.network = options.network;
    // Identities from seeded private keys: the same seed gives the same IDs, so runs repeat exactly.
    const random = createRandom(options.seed);
    this.identities = Array.from({ length: options.size }, () => seededIdentity(random));
    this.ids = this.identities.map((identity) => identity.nodeId);
    const order = this.ids.map((_, i) => i).sort((a, b) => Buffer.compare(this.ids[a], this.ids[b]));
    this.sortedIds = order.map((i) => this.ids[i]);
    this.indexAtSorted = Int32Array.from(order);
    for (let i = 0; i < options.size; i++) this.indexByHost.set(hostOf(i), i);
  }

  /** The started node at `index` once its routing table is filled; built on first use. */
  node(index: number): Promise<KademliaDHT> {
    return this.ensure(index).ready;
  }

  stats(): BuildStats {
    let dropped = 0;
    for (const { transport } of this.nodes.values()) dropped += transport.droppedWhileBuilding;
    return { ...this.built, droppedWhileBuilding: dropped };
  }

  /** Stops every built node. */
  async stop(): Promise<void> {
    const all = [...this.nodes.values()];
    await this.clock.runUntilSettled(Promise.all(all.map(({ ready }) => ready.then((node) => node.stop()))));
  }

  private ensure(index: number): BuiltNode {
    const existing = this.nodes.get(index);
    if (existing) return existing;
    const startedAt = performance.now();
    const transport = new LazyTransport(
      this.network.createTransport({ host: hostOf(index), port: SIM_PORT }),
      (to) => this.onSend(to),
    );
    const node = new KademliaDHT({
      identity: this.identities[index],
      transport,
      clock: this.clock,
      sessions: SIM_SESSIONS,
      joinRefresh: false,
      maintenanceIntervalMs: MAINTENANCE_TICK_MS,
    });
    // start() binds the transport synchronously (so packets to the node are deliverable at once) and resolves
    // within the current microtasks; the table is filled then, and held packets are answered after that.
    const started = node.start([]);
    const entry: BuiltNode = {
      node,
      transport,
      ready: started.then(() => {
        this.fillTable(index, entry);
        return node;
      }),
    };
    this.nodes.set(index, entry);
    this.built.buildMs += performance.now() - startedAt;
    return entry;
  }

  private fillTable(index: number, entry: BuiltNode): void {
    const startedAt = performance.now();
    const table = routingTableOf(entry.node);
    const contacts = convergedTableIndices({
      sortedIds: this.sortedIds,
      localId: this.ids[index],
      k: DEFAULTS.k,
      splitRelaxation: this.splitRelaxation,
      random: createRandom(this.seed ^ Math.imul(index + 1, 0x9e3779b1)),
    });
    for (const sorted of contacts) {
      const other = this.indexAtSorted[sorted];
      table.observe({
        id: this.ids[other],
        publicKey: this.identities[other].publicKey,
        host: hostOf(other),
        port: SIM_PORT,
      });
    }
    entry.transport.open();
    this.built.nodesBuilt++;
    this.built.tableEntries += table.size();
    // Every contact of a converged table must fit (buckets hold at most k each); a refusal would skew results.
    this.built.notAdmitted += contacts.length - table.size();
    this.built.buildMs += performance.now() - startedAt;
  }

  private onSend(to: Endpoint): void {
    const index = this.indexByHost.get(to.host);
    if (index !== undefined && to.port === SIM_PORT) this.ensure(index);
  }
}

/** Node i's IP: its own /24 for the first 65,536 nodes (two per /24 beyond), as IP-diversity rules expect. */
export function hostOf(index: number): string {
  return `127.${index & 255}.${(index >> 8) & 255}.${1 + (index >> 16)}`;
}
