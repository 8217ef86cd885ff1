import { performance } from 'node:perf_hooks';
import { KademliaDHT, type MemoryNetwork, type NodeId, type VirtualClock } from '../../libs/kademlia/src';
import { createRandom } from '../../libs/kademlia/src/sim/random';
import { hostOf, MAINTENANCE_TICK_MS, SIM_PORT, SIM_SESSIONS } from './converged-network';
import type { SimulatedNodes } from './lookup-sample';
import { seededIdentity } from './seeded-identity';

/** Nodes that join at once; each batch bootstraps from three random nodes already in (as test/sim does). */
const JOIN_BATCH = 50;

export interface JoinedNetwork extends SimulatedNodes {
  /** Real time the joins took. */
  readonly joinMs: number;
  /** Average routing-table size after the joins. */
  averageTableSize(): number;
  stop(): Promise<void>;
}

/**
 * A network grown the way a real one is: every node joins through three nodes already in (pings, then a
 * self-lookup), 50 at a time. Its tables are what joining and the traffic of later joins give, not what hours
 * of bucket refreshes would add.
 */
export async function joinNetwork(input: {
  size: number;
  seed: number;
  clock: VirtualClock;
  network: MemoryNetwork;
}): Promise<JoinedNetwork> {
  const { clock, network } = input;
  const random = createRandom(input.seed);
  const identities = createRandom(input.seed ^ 0x1d);
  const startedAt = performance.now();
  const make = (i: number) =>
    new KademliaDHT({
      identity: seededIdentity(identities),
      transport: network.createTransport({ host: hostOf(i), port: SIM_PORT }),
      clock,
      sessions: SIM_SESSIONS,
      // The per-range lookups of a full join would make a 10,000-node join take ~10 minutes of real time; the
      // self-lookup alone is what test/sim does for large networks. Tables then fill from traffic only.
      joinRefresh: false,
      maintenanceIntervalMs: MAINTENANCE_TICK_MS,
    });
  const nodes: KademliaDHT[] = [make(0)];
  await clock.runUntilSettled(nodes[0].start([]));
  while (nodes.length < input.size) {
    const batch: KademliaDHT[] = [];
    for (let j = 0; j < JOIN_BATCH && nodes.length + batch.length < input.size; j++) {
      batch.push(make(nodes.length + batch.length));
    }
    const entries = [0, 1, 2].map(() => {
      const { address, port } = nodes[Math.floor(random() * nodes.length)].address();
      return `${address}:${port}`;
    });
    const reports = await clock.runUntilSettled(Promise.all(batch.map((node) => node.start(entries))));
    if (reports.some((report) => !report.bootstrapped)) throw new Error('a simulated node did not join');
    nodes.push(...batch);
  }
  const joinMs = performance.now() - startedAt;
  const ids: NodeId[] = nodes.map((node) => node.nodeId);
  return {
    size: nodes.length,
    ids,
    joinMs,
    node: async (index) => nodes[index],
    averageTableSize: () =>
      nodes.reduce((sum, node) => sum + node.getRoutingTableInfo().size, 0) / nodes.length,
    stop: async () => {
      await clock.runUntilSettled(Promise.all(nodes.map((node) => node.stop())));
    },
  };
}
