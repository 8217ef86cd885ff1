import { KademliaDHT } from '../../libs/kademlia/src';
import { loopbackAddress } from '../loopback-address';
import { joinEntries, type LookupNetwork, type NetworkBuildInput } from './lookup-network';

/** Every request kadfleet's RPC engine transmitted, retries included: the same measure as the peers'. */
function requestsSent(node: KademliaDHT): number {
  const sent = node.stats().rpc.requestsSent as Record<string, number>;
  return Object.values(sent).reduce((sum, n) => sum + n, 0);
}

/** kadfleet as its users run it: default options, real UDP, plaintext sessions (the encrypted layer is not in yet). */
export async function startKadfleetNetwork(input: NetworkBuildInput): Promise<LookupNetwork> {
  const nodes: KademliaDHT[] = [];
  const entry = (node: KademliaDHT) => `${node.address().address}:${node.address().port}`;
  const make = (i: number) => new KademliaDHT({ bindAddress: loopbackAddress(i, input.block), bindPort: 0 });
  try {
    const first = make(0);
    nodes.push(first);
    await first.start([]);
    for (let start = 1; start < input.size; start += input.concurrency) {
      const entries = joinEntries(nodes).map(entry);
      const batch: KademliaDHT[] = [];
      for (let i = start; i < Math.min(input.size, start + input.concurrency); i++) batch.push(make(i));
      nodes.push(...batch);
      const reports = await Promise.all(batch.map((node) => node.start(entries)));
      if (reports.some((report) => !report.bootstrapped))
        throw new Error('a kadfleet node did not bootstrap');
      input.onJoined?.(nodes.length);
    }
  } catch (err) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw err;
  }
  return {
    k: nodes[0].options.k,
    idBytes: 20,
    ids: () => nodes.map((node) => node.nodeId),
    lookup: async ({ from, target }) => {
      const node = nodes[from];
      const before = requestsSent(node);
      const startedAt = performance.now();
      const outcome = await node.lookup(target);
      const durationMs = performance.now() - startedAt;
      return {
        closest: outcome.closest.map((contact) => contact.id),
        messages: requestsSent(node) - before,
        durationMs,
      };
    },
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}
