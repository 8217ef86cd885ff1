import { createSocket } from 'node:dgram';
import DHT from 'dht-rpc';
import { loopbackAddress } from '../loopback-address';
import { joinEntries, type LookupNetwork, type NetworkBuildInput } from './lookup-network';

/** Requests dht-rpc's IO layer created plus its resends: every request datagram the node sent. */
function requestsSent(node: DHT): number {
  return node.stats.requests.total + node.stats.requests.retries;
}

/** A free UDP port on host: dht-rpc's bootstrapper derives its ID from a port it must know in advance. */
export async function freeUdpPort(host: string): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/**
 * dht-rpc the way its own tests build a local network: a bootstrapper, then nodes that skip the adaptive
 * (20-30 min) wait with `ephemeral: false` and, being on loopback, are told they are not firewalled.
 */
export async function startDhtRpcNetwork(input: NetworkBuildInput): Promise<LookupNetwork> {
  const nodes: DHT[] = [];
  const entry = (node: DHT) => `${node.address().host}:${node.address().port}`;
  try {
    const host = loopbackAddress(0, input.block);
    const first = DHT.bootstrapper(await freeUdpPort(host), host, { host });
    nodes.push(first);
    await first.fullyBootstrapped();
    for (let start = 1; start < input.size; start += input.concurrency) {
      const bootstrap = joinEntries(nodes).map(entry);
      const batch: DHT[] = [];
      for (let i = start; i < Math.min(input.size, start + input.concurrency); i++) {
        batch.push(
          new DHT({ bootstrap, host: loopbackAddress(i, input.block), ephemeral: false, firewalled: false }),
        );
      }
      nodes.push(...batch);
      await Promise.all(batch.map((node) => node.fullyBootstrapped()));
      input.onJoined?.(nodes.length);
    }
    if (nodes.some((node) => node.ephemeral)) throw new Error('a dht-rpc node stayed ephemeral');
  } catch (err) {
    await Promise.all(nodes.map((node) => node.destroy()));
    throw err;
  }
  return {
    k: nodes[0].table.k,
    idBytes: 32,
    ids: () => nodes.map((node) => node.table.id),
    lookup: async ({ from, target }) => {
      const node = nodes[from];
      const before = requestsSent(node);
      const startedAt = performance.now();
      const query = node.findNode(target);
      await query.finished();
      const durationMs = performance.now() - startedAt;
      return {
        closest: query.closestReplies.flatMap((reply) => (reply.from.id ? [reply.from.id] : [])),
        messages: requestsSent(node) - before,
        durationMs,
      };
    },
    stop: async () => {
      await Promise.all(nodes.map((node) => node.destroy()));
    },
  };
}
