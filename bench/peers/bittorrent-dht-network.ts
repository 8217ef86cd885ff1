import { compareXorDistance } from '../lookups/xor-oracle';
import { loopbackAddress } from '../loopback-address';
import { destroy, listen, loadBittorrentDht, type BittorrentDht } from './bittorrent-dht-types';
import { joinEntries, type LookupNetwork, type NetworkBuildInput } from './lookup-network';

const ID_BYTES = 20;

/** bittorrent-dht nodes joining through three earlier nodes each; 'ready' fires after their self-lookup. */
export async function startBittorrentDhtNetwork(input: NetworkBuildInput): Promise<LookupNetwork> {
  const Dht = await loadBittorrentDht();
  const nodes: BittorrentDht[] = [];
  const entry = (node: BittorrentDht) => `${node.address().address}:${node.address().port}`;
  const make = (bootstrap: string[] | false) => {
    const node = new Dht({ bootstrap });
    // Warnings are unanswered queries and the like; an 'error' without a listener would kill the process.
    node.on('error', () => undefined);
    node.on('warning', () => undefined);
    return node;
  };
  try {
    const first = make(false);
    nodes.push(first);
    await listen(first, loopbackAddress(0, input.block));
    for (let start = 1; start < input.size; start += input.concurrency) {
      const bootstrap = joinEntries(nodes).map(entry);
      const batch: Array<Promise<void>> = [];
      for (let i = start; i < Math.min(input.size, start + input.concurrency); i++) {
        const node = make(bootstrap);
        nodes.push(node);
        const ready = new Promise<void>((resolve) => node.once('ready', resolve));
        node.listen(0, loopbackAddress(i, input.block));
        batch.push(ready);
      }
      await Promise.all(batch);
      input.onJoined?.(nodes.length);
    }
  } catch (err) {
    await Promise.all(nodes.map(destroy));
    throw err;
  }
  return {
    k: nodes[0]._rpc.k,
    idBytes: ID_BYTES,
    ids: () => nodes.map((node) => node.nodeId),
    lookup: ({ from, target }) => lookup(nodes[from], Buffer.from(target)),
    stop: async () => {
      await Promise.all(nodes.map(destroy));
    },
  };
}

/**
 * bittorrent-dht's own iterative FIND_NODE (k-rpc's closest(), which its get_peers lookup also runs on). The
 * result is the k closest nodes that answered, by XOR: what the lookup has verified, like the other two.
 */
function lookup(node: BittorrentDht, target: Buffer) {
  const socket = node._rpc.socket;
  const original = socket.query;
  let messages = 0;
  socket.query = function countedQuery(this: unknown, ...args: unknown[]) {
    messages++;
    return original.apply(this, args);
  };
  const responders = new Map<string, Uint8Array>();
  const startedAt = performance.now();
  return new Promise<{ closest: Uint8Array[]; messages: number; durationMs: number }>((resolve, reject) => {
    node._rpc.closest(
      target,
      { q: 'find_node', a: { id: node._rpc.id, target } },
      (message) => {
        const id = message.r?.id;
        if (id instanceof Uint8Array && id.length === ID_BYTES)
          responders.set(Buffer.from(id).toString('hex'), id);
      },
      (err) => {
        const durationMs = performance.now() - startedAt;
        socket.query = original;
        if (err) return reject(err);
        const closest = [...responders.values()]
          .sort((a, b) => compareXorDistance(target, a, b))
          .slice(0, node._rpc.k);
        resolve({ closest, messages, durationMs });
      },
    );
  });
}
