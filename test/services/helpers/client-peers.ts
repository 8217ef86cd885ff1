import { KademliaDHT, type KademliaOptions, type NodeId } from '../../../libs/kademlia/src';
import { idToHex } from '../../../libs/kademlia/src';
import { sameIdList, trueClosest } from '../../helpers/oracle';

/**
 * Peer i of a test network listens on its own 127.x.y.z, in its own /24, so the bootstrap node's per-IP and
 * per-group limits see many hosts (as on the Internet), not one. `block` keeps test files apart.
 */
export function peerAddress(block: number, i: number): string {
  return `127.${block}.${i + 1}.${1 + ((i * 7) % 250)}`;
}

/** Options of every in-test peer: the whole jest worker shares one event loop, so shedding would react to it. */
export const PEER_OPTIONS: KademliaOptions = { loadShedding: false };

/**
 * Starts `count` DHT peers that join through `entry` (the bootstrap service, by name), `concurrency` at a time as
 * peers of a real network arrive, and checks each one got in. On failure every started peer is stopped.
 */
export async function startPeers(input: {
  count: number;
  entry: string;
  block: number;
  concurrency?: number;
}): Promise<KademliaDHT[]> {
  const peers: KademliaDHT[] = [];
  const concurrency = input.concurrency ?? 5;
  try {
    for (let start = 0; start < input.count; start += concurrency) {
      const batch: Array<Promise<void>> = [];
      for (let i = start; i < Math.min(input.count, start + concurrency); i++) {
        const peer = new KademliaDHT({
          ...PEER_OPTIONS,
          bindAddress: peerAddress(input.block, i),
          bindPort: 0,
        });
        peers.push(peer);
        batch.push(
          peer.start([input.entry]).then((report) => {
            if (!report.bootstrapped) throw new Error(`peer ${i} could not join through ${input.entry}`);
          }),
        );
      }
      await Promise.all(batch);
    }
    return peers;
  } catch (err) {
    await stopAll(peers);
    throw err;
  }
}

export async function stopAll(nodes: readonly KademliaDHT[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
}

/**
 * Runs `count` lookups of random targets from `client` and returns those whose result is not exactly the true k
 * closest (by brute force over `network`, every node but the client), as readable strings; [] means all exact.
 */
export async function inexactLookups(input: {
  client: KademliaDHT;
  network: readonly NodeId[];
  targets: readonly NodeId[];
  k?: number;
}): Promise<string[]> {
  const k = input.k ?? 20;
  const failures: string[] = [];
  for (const target of input.targets) {
    const found = (await input.client.findNode(target)).map((c) => c.id);
    const expected = trueClosest(input.network, target, k, input.client.nodeId);
    if (!sameIdList(found, expected)) {
      failures.push(
        `${idToHex(target)}: got ${found.length} [${found.map(short)}], want [${expected.map(short)}]`,
      );
    }
  }
  return failures;
}

function short(id: NodeId): string {
  return idToHex(id).slice(0, 8);
}
