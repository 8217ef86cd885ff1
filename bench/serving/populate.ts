import DHT from 'dht-rpc';
import { KademliaDHT } from '../../libs/kademlia/src';
import { loopbackAddress } from '../loopback-address';
import { destroy, listen, loadBittorrentDht, type BittorrentDht } from '../peers/bittorrent-dht-types';
import { kadfleetSessions, type ServerAddress, type ServingImplementation } from './implementations';

export interface Helpers {
  count: number;
  stop(): Promise<void>;
}

/**
 * Fills the server's routing table the way a network would: helper nodes of the same implementation join
 * through it. They live in the load generator's process, so their (idle) upkeep is not billed to the server.
 */
export async function populateServer(input: {
  implementation: ServingImplementation;
  server: ServerAddress;
  helpers: number;
  block: number;
}): Promise<Helpers> {
  const { implementation, server } = input;
  const entry = `${server.host}:${server.port}`;
  const sessions = kadfleetSessions(implementation);
  if (sessions) {
    const nodes = await startInBatches(input.helpers, async (i) => {
      const node = new KademliaDHT({ bindAddress: loopbackAddress(i, input.block), bindPort: 0, sessions });
      const report = await node.start([entry]);
      if (!report.bootstrapped) throw new Error('a kadfleet helper could not join the server');
      return node;
    });
    return { count: nodes.length, stop: async () => void (await Promise.all(nodes.map((n) => n.stop()))) };
  }
  if (implementation === 'dht-rpc') {
    const nodes = await startInBatches(input.helpers, async (i) => {
      const node = new DHT({
        bootstrap: [entry],
        host: loopbackAddress(i, input.block),
        ephemeral: false,
        firewalled: false,
      });
      await node.fullyBootstrapped();
      return node;
    });
    return { count: nodes.length, stop: async () => void (await Promise.all(nodes.map((n) => n.destroy()))) };
  }
  if (implementation === 'bittorrent-dht') {
    const Dht = await loadBittorrentDht();
    // bittorrent-dht answers find_node with its WHOLE routing table (k-bucket's closest() without a limit), so
    // its table is held at 20 contacts, 19 helpers plus the generator, to make its answers the same size.
    const count = Math.min(input.helpers, 19);
    const nodes = await startInBatches(count, async (i) => {
      const node: BittorrentDht = new Dht({ bootstrap: [entry] });
      node.on('error', () => undefined);
      node.on('warning', () => undefined);
      const ready = new Promise<void>((resolve) => node.once('ready', resolve));
      await listen(node, loopbackAddress(i, input.block));
      await ready;
      return node;
    });
    return { count: nodes.length, stop: async () => void (await Promise.all(nodes.map(destroy))) };
  }
  return { count: 0, stop: async () => undefined };
}

async function startInBatches<T>(count: number, start: (i: number) => Promise<T>): Promise<T[]> {
  const started: T[] = [];
  for (let first = 0; first < count; first += 8) {
    const batch = [];
    for (let i = first; i < Math.min(count, first + 8); i++) batch.push(start(i));
    started.push(...(await Promise.all(batch)));
  }
  return started;
}
