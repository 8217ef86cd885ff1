import {
  identityFromPrivateKey,
  KademliaDHT,
  type Identity,
  type NodeId,
  MemoryNetwork,
  VirtualClock,
  type Contact,
  type KademliaOptions,
} from '../../libs/kademlia/src';
import { createRandom } from '../../libs/kademlia/src/sim/random';
import type { Endpoint } from '../../libs/kademlia/src/transport/transport';

/**
 * The in-memory world the attack simulations run in: one VirtualClock, one MemoryNetwork with 5-50 ms one-way
 * latency, seeded randomness. Addresses are not loopback, so the node's default IP-diversity limits apply
 * (loopback is exempt by default): every honest node has its own /24.
 */
export interface World {
  readonly clock: VirtualClock;
  readonly network: MemoryNetwork;
  readonly random: () => number;
  readonly sessions: 'plaintext' | 'encrypted';
}

export function createWorld(options: { seed: number; sessions: 'plaintext' | 'encrypted' }): World {
  const random = createRandom(options.seed);
  const clock = new VirtualClock();
  const network = new MemoryNetwork({ clock, random, latencyMs: () => 5 + random() * 45 });
  return { clock, network, random, sessions: options.sessions };
}

/** Honest node i lives alone in 10.x.y.0/24 (i < 65,536). */
export function honestEndpoint(i: number): Endpoint {
  return { host: `10.${(i >> 8) & 255}.${i & 255}.1`, port: 6881 };
}

/** A key pair drawn from the world's seeded randomness, so every run builds the same network. */
export function seededIdentity(world: World): Identity {
  const secret = new Uint8Array(32);
  for (let i = 0; i < 32; i++) secret[i] = Math.floor(world.random() * 256);
  return identityFromPrivateKey(secret);
}

/** A random-looking NodeId (a lookup target) from the world's seeded randomness. */
export function seededId(world: World): NodeId {
  const id = new Uint8Array(20);
  for (let i = 0; i < 20; i++) id[i] = Math.floor(world.random() * 256);
  return id;
}

/** Lean simulation settings: no join refresh, a slow maintenance tick; everything else is the node's default. */
export function makeHonest(world: World, i: number, extra: KademliaOptions = {}): KademliaDHT {
  return new KademliaDHT({
    transport: world.network.createTransport(honestEndpoint(i)),
    identity: seededIdentity(world),
    clock: world.clock,
    sessions: world.sessions,
    joinRefresh: false,
    maintenanceIntervalMs: 60_000,
    ...extra,
  });
}

export function endpointOf(node: KademliaDHT): Endpoint {
  const { address, port } = node.address();
  return { host: address, port };
}

export function contactOf(node: KademliaDHT): Contact {
  const { address, port } = node.address();
  return { id: node.nodeId, publicKey: node.publicKey, host: address, port };
}

/** Anything that joins through bootstrap endpoints: an honest KademliaDHT or an adversary. */
export interface Joiner {
  start(bootstrap: readonly Endpoint[]): Promise<unknown>;
}

export function honestJoiner(node: KademliaDHT): Joiner {
  return { start: (bootstrap) => node.start(bootstrap.map((e) => `${e.host}:${e.port}`)) };
}

/**
 * Joins everyone in order, `batch` at a time, each through 3 random honest nodes that joined before (the first
 * honest node starts the network). Returns when all have joined, in virtual time.
 */
export async function joinInBatches(
  world: World,
  input: { joiners: readonly { joiner: Joiner; honest?: KademliaDHT }[]; batch?: number },
): Promise<void> {
  const batchSize = input.batch ?? 50;
  const seeds: Endpoint[] = [];
  const first = input.joiners[0];
  if (!first.honest) throw new Error('the first joiner must be honest');
  await world.clock.runUntilSettled(first.joiner.start([]));
  seeds.push(endpointOf(first.honest));
  for (let at = 1; at < input.joiners.length; at += batchSize) {
    const batch = input.joiners.slice(at, at + batchSize);
    const pick = () => seeds[Math.floor(world.random() * seeds.length)];
    await world.clock.runUntilSettled(
      Promise.all(batch.map((j) => j.joiner.start([pick(), pick(), pick()]))),
    );
    for (const j of batch) {
      if (j.honest) seeds.push(endpointOf(j.honest));
    }
  }
}

/** Share as a percentage with one decimal, for the printed figures. */
export function percent(hits: number, total: number): string {
  return `${((100 * hits) / Math.max(1, total)).toFixed(1)}%`;
}
