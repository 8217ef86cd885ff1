import { KademliaDHT, type KademliaOptions } from '../../libs/kademlia/src';

/** Node i listens on its own 127.x.y.z, so the swarm looks like nodes spread over many /24 networks. */
export function swarmAddress(i: number): string {
  return `127.${20 + Math.floor(i / 250)}.${(i % 250) + 1}.${1 + ((i * 7) % 250)}`;
}

export interface UdpSwarm {
  readonly nodes: KademliaDHT[];
  stop(): Promise<void>;
}

/**
 * Starts `size` real UDP nodes on loopback: node 0 founds the network, the others join through a few
 * earlier nodes, `concurrency` at a time (as peers of a real network would, not all at the same instant).
 */
export async function startUdpSwarm(input: {
  size: number;
  concurrency?: number;
  options?: KademliaOptions;
}): Promise<UdpSwarm> {
  const nodes: KademliaDHT[] = [];
  const concurrency = input.concurrency ?? 16;
  // Every node of the swarm shares this process's one event loop, so the lag a node would shed load on is the
  // whole swarm's (and the machine's), not its own: shedding would react to the harness. test/flood tests it.
  const options: KademliaOptions = { loadShedding: false, ...input.options };
  const first = new KademliaDHT({ ...options, bindAddress: swarmAddress(0), bindPort: 0 });
  await first.start([]);
  nodes.push(first);
  const entry = (node: KademliaDHT) => `${node.address().address}:${node.address().port}`;
  for (let start = 1; start < input.size; start += concurrency) {
    const batch: Promise<void>[] = [];
    for (let i = start; i < Math.min(input.size, start + concurrency); i++) {
      const node = new KademliaDHT({ ...options, bindAddress: swarmAddress(i), bindPort: 0 });
      const known = nodes.length;
      const bootstrap = [entry(nodes[0]), entry(nodes[Math.floor(known / 2)]), entry(nodes[known - 1])];
      batch.push(
        node.start([...new Set(bootstrap)]).then((report) => {
          if (!report.bootstrapped) throw new Error(`node ${i} did not bootstrap`);
          nodes.push(node);
        }),
      );
    }
    await Promise.all(batch);
  }
  return {
    nodes,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
