import { createRequire } from 'node:module';
import { KademliaDHT, MemoryNetwork, VirtualClock } from '../../libs/kademlia/src';
import { ContactBuffer } from '../../libs/kademlia/src/bootstrap/contact-buffer';
import { createRandom } from '../../libs/kademlia/src/sim/random';
import { routingTableOf } from '../scale/table-access';
import {
  ENTRIES_PER_TABLE,
  FILLED_RANGES,
  ENTRIES_PER_RANGE,
  entryHost,
  idInRange,
  seededBytes,
} from './table-fill';

/**
 * The structures whose bytes per entry the memory benchmark measures. Each is measured in a fresh child process
 * (started with --expose-gc): prepare() builds everything that is not an entry (nodes, empty tables) and the heap
 * is measured; fill() adds the entries and the heap is measured again; the difference over the entry count is
 * the figure. Adding a structure is one more object in STRUCTURES.
 */
export interface MemoryStructure {
  readonly name: string;
  readonly label: string;
  /** What one entry is, in words, for the report. */
  readonly entry: string;
  /** The target, where it sets one. */
  readonly targetBytesPerEntry?: number;
  /** Absent while the structure does not exist yet: reported as "not yet built", never as a number. */
  readonly prepare?: (entries: number) => Promise<Filler>;
}

export interface Filler {
  /**
   * Adds the entries; returns how many the structure holds afterwards, anything that must stay alive, and
   * optionally a probe the worker runs after the memory reading (speed figures for the report, e.g. query µs).
   */
  fill(): Promise<{ entries: number; keep: unknown; probe?: () => Record<string, number> }>;
}

const SEED = 0x6d656d;
const load = createRequire(__filename);

/** kadfleet's routing table inside running nodes: one table per node, 320 entries each. */
const kadfleetRoutingTable: MemoryStructure = {
  name: 'kadfleet-routing-table',
  label: 'kadfleet routing table',
  entry:
    'one live contact in a running node’s RoutingTable (ID, public key, address, RTT, failure count, ' +
    'seen times, and its ID and address index entries), 320 per node',
  async prepare(entries) {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock });
    const random = createRandom(SEED);
    const nodes: KademliaDHT[] = [];
    for (let i = 0; i < Math.ceil(entries / ENTRIES_PER_TABLE); i++) {
      const host = `127.${i & 255}.${(i >> 8) & 255}.1`;
      const node = new KademliaDHT({ transport: network.createTransport({ host, port: 6881 }), clock });
      await clock.runUntilSettled(node.start([]));
      nodes.push(node);
    }
    return {
      async fill() {
        let held = 0;
        nodes.forEach((node, t) => {
          const table = routingTableOf(node);
          let j = 0;
          for (let cpl = 0; cpl < FILLED_RANGES; cpl++) {
            for (let n = 0; n < ENTRIES_PER_RANGE; n++, j++) {
              table.observe({
                id: idInRange({ local: node.nodeId, cpl, random }),
                publicKey: seededBytes(random, 32),
                host: entryHost(t, j),
                port: 6881,
              });
            }
          }
          held += table.size();
        });
        return { entries: held, keep: nodes };
      },
    };
  },
};

/**
 * The bootstrap role's compact contact buffer at full capacity (capacity = entries, allocated inside fill() so
 * the preallocated arrays count): every entry offered and verified, as the role does. After the memory reading
 * the probe times closest(target, 20) over random targets: the FIND_NODE path of a bootstrap node.
 */
const kadfleetBootstrapBuffer: MemoryStructure = {
  name: 'kadfleet-bootstrap-buffer',
  label: 'kadfleet bootstrap buffer',
  entry:
    'one verified IPv4 contact in the bootstrap role’s ContactBuffer (ID, public key, address, port, status ' +
    'word in a 62-byte record; address-limit counters; staging area), buffer at full capacity',
  targetBytesPerEntry: 64,
  async prepare(entries) {
    const random = createRandom(SEED);
    let nowMs = 0;
    // Warm-up (compiled code, module state) so fixed costs are not charged to entries, as for the other rows.
    fillBuffer(new ContactBuffer({ capacity: 2_000, now: () => nowMs, seed: SEED }), 2_000, createRandom(1));
    return {
      async fill() {
        const buffer = new ContactBuffer({ capacity: entries, now: () => nowMs, seed: SEED });
        fillBuffer(buffer, entries, random, () => (nowMs += 1_000));
        return {
          entries: buffer.stats().verified,
          keep: buffer,
          probe: () => timeClosest(buffer, random),
        };
      },
    };
  },
};

function fillBuffer(buffer: ContactBuffer, entries: number, random: () => number, tick?: () => void): void {
  for (let i = 0; i < entries; i++) {
    // A distinct /24 per entry (11.0.0.1, 11.0.1.1, ...): no address limit refuses any.
    const ip = 0x0b00_0001 + i * 256;
    const contact = {
      id: seededBytes(random, 20),
      publicKey: seededBytes(random, 32),
      host: `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.1`,
      port: 6881,
    };
    buffer.offer(contact);
    buffer.markVerified(contact);
    if ((i & 0xffff) === 0) tick?.();
  }
}

/** Mean µs of closest(target, 20) over random targets, after a warm-up. Bench output only, never a test. */
function timeClosest(buffer: ContactBuffer, random: () => number): Record<string, number> {
  const targets = Array.from({ length: 2_000 }, () => seededBytes(random, 20));
  for (const target of targets.slice(0, 500)) buffer.closest(target, 20);
  const startedAt = performance.now();
  let returned = 0;
  for (const target of targets) returned += buffer.closest(target, 20).length;
  const closestMicros = ((performance.now() - startedAt) * 1000) / targets.length;
  return { closestMicros, closestReturned: returned / targets.length };
}

/** dht-rpc 6's table: kademlia-routing-table rows holding the node objects dht-rpc creates for every peer. */
const dhtRpcRoutingTable: MemoryStructure = {
  name: 'dht-rpc-routing-table',
  label: 'dht-rpc (kademlia-routing-table)',
  entry:
    'one node object as dht-rpc 6 adds it (32-byte ID, host, port, timestamps, list links) in a ' +
    'kademlia-routing-table row, 320 per table',
  async prepare(entries) {
    const RoutingTable = load('kademlia-routing-table') as new (
      id: Uint8Array,
      opts: { k: number },
    ) => {
      add(node: object): boolean;
      size: number;
    };
    const random = createRandom(SEED);
    const tables = Array.from({ length: Math.ceil(entries / ENTRIES_PER_TABLE) }, () => {
      const id = Buffer.from(seededBytes(random, 32));
      return new RoutingTable(id, { k: ENTRIES_PER_RANGE });
    });
    return {
      async fill() {
        let held = 0;
        tables.forEach((table, t) => {
          const local = (table as unknown as { id: Uint8Array }).id;
          let j = 0;
          for (let cpl = 0; cpl < FILLED_RANGES; cpl++) {
            for (let n = 0; n < ENTRIES_PER_RANGE; n++, j++) {
              // dht-rpc allocates IDs with b4a.allocUnsafe(32): a slice of Node's shared buffer pool.
              const id = Buffer.allocUnsafe(32);
              id.set(idInRange({ local, cpl, random }));
              table.add({
                id,
                port: 49737,
                host: entryHost(t, j),
                token: null,
                to: null,
                sampled: 0,
                added: 1,
                pinged: 1,
                seen: 1,
                downHints: 0,
                prev: null,
                next: null,
              });
            }
          }
          held += table.size;
        });
        return { entries: held, keep: tables };
      },
    };
  },
};

/** bittorrent-dht 11's table: a k-bucket tree (via k-rpc) holding the node objects k-rpc creates. */
const kBucketRoutingTable: MemoryStructure = {
  name: 'k-bucket-routing-table',
  label: 'bittorrent-dht (k-bucket)',
  entry:
    'one node object as k-rpc adds it for bittorrent-dht ({ id (20 bytes), host, port, distance, seen }) in ' +
    'a k-bucket tree, 320 per table',
  async prepare(entries) {
    const KBucket = load('k-bucket') as new (opts: {
      localNodeId: Uint8Array;
      numberOfNodesPerKBucket: number;
    }) => {
      add(contact: object): unknown;
      count(): number;
    };
    const random = createRandom(SEED);
    const locals = Array.from({ length: Math.ceil(entries / ENTRIES_PER_TABLE) }, () =>
      Buffer.from(seededBytes(random, 20)),
    );
    const tables = locals.map(
      (localNodeId) => new KBucket({ localNodeId, numberOfNodesPerKBucket: ENTRIES_PER_RANGE }),
    );
    return {
      async fill() {
        let held = 0;
        tables.forEach((table, t) => {
          let j = 0;
          for (let cpl = 0; cpl < FILLED_RANGES; cpl++) {
            for (let n = 0; n < ENTRIES_PER_RANGE; n++, j++) {
              // k-rpc keeps the ID Buffer its decoder produced; a pooled slice is the cheapest form of it.
              const id = Buffer.allocUnsafe(20);
              id.set(idInRange({ local: locals[t], cpl, random }));
              table.add({ id, host: entryHost(t, j), port: 6881, distance: 0, seen: 1 });
            }
          }
          held += table.count();
        });
        return { entries: held, keep: tables };
      },
    };
  },
};

export const STRUCTURES: readonly MemoryStructure[] = [
  kadfleetRoutingTable,
  kadfleetBootstrapBuffer,
  dhtRpcRoutingTable,
  kBucketRoutingTable,
];

export function structureNamed(name: string): MemoryStructure {
  const found = STRUCTURES.find((s) => s.name === name);
  if (!found) throw new Error(`unknown memory structure ${name}`);
  return found;
}
