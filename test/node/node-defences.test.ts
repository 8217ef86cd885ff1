import {
  DEFAULTS,
  KademliaDHT,
  MemoryNetwork,
  VirtualClock,
  generateIdentity,
  idToHex,
  isKademliaError,
  randomId,
  type KademliaOptions,
} from '../../libs/kademlia/src';
import { satisfiesPuzzle } from '../../libs/kademlia/src/id/puzzle';
import type { NodeRuntime } from '../../libs/kademlia/src/node/node-runtime';
import { createRandom } from '../../libs/kademlia/src/sim/random';

jest.setTimeout(60_000);

/**
 * The node's defences wired end to end, on the simulator (any address can be used there, so public-mode and
 * per-/24 rules meet the addresses they exist for). Each test builds its own small network.
 */
function simulation(seed: number) {
  const random = createRandom(seed);
  const clock = new VirtualClock();
  const network = new MemoryNetwork({ clock, random, latencyMs: () => 5 + random() * 20 });
  const nodes: KademliaDHT[] = [];
  const start = async (host: string, options: KademliaOptions, entries: string[]) => {
    const node = new KademliaDHT({
      ...options,
      transport: network.createTransport({ host, port: 6881 }),
      clock,
      maintenanceIntervalMs: 60_000,
    });
    await clock.runUntilSettled(node.start(entries));
    nodes.push(node);
    return node;
  };
  return {
    clock,
    start,
    run: <T>(promise: Promise<T>) => clock.runUntilSettled(promise),
    stopAll: () => clock.runUntilSettled(Promise.all(nodes.map((n) => n.stop()))),
  };
}

const hostsIn = (node: KademliaDHT) => node.getRoutingTableInfo().contacts.map((c) => c.host);

describe('node defences on a simulated network', () => {
  it('in public mode, neither holds nor asks contacts at bogon addresses', async () => {
    const sim = simulation(1);
    try {
      // An open (non-public) network of public-looking addresses, with one node on a private address in it.
      const seed = await sim.start('44.0.0.1', {}, []);
      for (let i = 1; i <= 12; i++) await sim.start(`44.0.${i}.1`, {}, ['44.0.0.1:6881']);
      await sim.start('10.0.0.5', {}, ['44.0.0.1:6881']);
      expect(hostsIn(seed)).toContain('10.0.0.5');

      const guarded = await sim.start('44.1.0.1', { publicMode: true }, ['44.0.0.1:6881']);
      await sim.run(guarded.findNode(randomId()));
      await sim.run(guarded.findNode(seed.nodeId));
      expect(hostsIn(guarded)).not.toContain('10.0.0.5');
      expect(hostsIn(guarded).length).toBeGreaterThanOrEqual(10);
      // Its peers did hand it the private contact; it was screened out of their replies, never asked.
      const refused = guarded.stats().refused;
      expect(refused.contact_bogon).toBeGreaterThan(0);
      expect(guarded.stats().guard.contactsRefused.bogon).toBeGreaterThan(0);
    } finally {
      await sim.stopAll();
    }
  });

  it('keeps IDs that fail the network puzzle out of every table and every lookup result', async () => {
    const sim = simulation(2);
    const difficulty = 4;
    try {
      const honest = [await sim.start('45.0.0.1', { idPuzzleDifficulty: difficulty }, [])];
      for (let i = 1; i < 15; i++) {
        honest.push(await sim.start(`45.0.${i}.1`, { idPuzzleDifficulty: difficulty }, ['45.0.0.1:6881']));
      }
      expect(honest.every((n) => satisfiesPuzzle(n.nodeId, difficulty))).toBe(true);

      let identity = generateIdentity();
      while (satisfiesPuzzle(identity.nodeId, difficulty)) identity = generateIdentity();
      // The intruder does not check the puzzle itself, so it gets in as far as its own view goes.
      const intruder = await sim.start('46.0.0.1', { identity }, ['45.0.0.1:6881']);
      await sim.run(intruder.findNode(randomId()));

      const intruderId = idToHex(intruder.nodeId);
      for (const node of honest) {
        expect(node.getRoutingTableInfo().contacts.map((c) => c.id)).not.toContain(intruderId);
      }
      const found = await sim.run(honest[3].findNode(intruder.nodeId));
      expect(found.map((c) => idToHex(c.id))).not.toContain(intruderId);
      expect(honest.some((n) => (n.stats().refused.table_puzzle ?? 0) > 0)).toBe(true);
    } finally {
      await sim.stopAll();
    }
  });

  it('refuses to start with an identity that does not solve the configured puzzle', async () => {
    let identity = generateIdentity();
    while (satisfiesPuzzle(identity.nodeId, 8)) identity = generateIdentity();
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock });
    const node = new KademliaDHT({
      identity,
      idPuzzleDifficulty: 8,
      clock,
      transport: network.createTransport({ host: '47.0.0.1', port: 6881 }),
    });
    const failure = await clock.runUntilSettled(node.start([])).catch((e: unknown) => e);
    expect(isKademliaError(failure, 'CONFIG_INVALID')).toBe(true);
    expect(node.isRunning).toBe(false);
  });

  it('gives peers with a bad record less patience in lookups, so honest candidates are asked first', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock });
    const node = new KademliaDHT({
      clock,
      transport: network.createTransport({ host: '49.0.0.1', port: 6881 }),
    });
    await clock.runUntilSettled(node.start([]));
    try {
      const runtime = (node as unknown as { running: { runtime: NodeRuntime } }).running.runtime;
      const peer = (host: string) => ({ id: randomId(), publicKey: new Uint8Array(32), host, port: 6881 });
      const options = runtime.lookupOptions({ target: randomId(), kind: 'node' });
      const patience = (host: string) => options.slowAfterMs!(peer(host));
      expect(patience('49.0.0.2')).toBeGreaterThan(DEFAULTS.minTimeoutMs);
      runtime.guard.report('49.0.0.3', 'junk_contacts');
      expect(patience('49.0.0.3')).toBe(DEFAULTS.minTimeoutMs);
      expect(patience('49.0.0.2')).toBeGreaterThan(DEFAULTS.minTimeoutMs);
    } finally {
      await clock.runUntilSettled(node.stop());
    }
  });

  it('refills a table that emptied after joining, from the bootstrap entries, on the next lookup', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock });
    const seedAt = { host: '49.1.0.1', port: 6881 };
    const seed = new KademliaDHT({ clock, transport: network.createTransport(seedAt) });
    const client = new KademliaDHT({
      clock,
      clientMode: true,
      transport: network.createTransport({ host: '49.1.0.2', port: 6881 }),
    });
    await clock.runUntilSettled(seed.start([]));
    await clock.runUntilSettled(client.start(['49.1.0.1:6881']));
    try {
      expect(client.getRoutingTableInfo().size).toBe(1);
      // Its only contact stops answering: two failed lookups evict it, and the table is empty.
      network.kill(seedAt);
      for (let i = 0; i < 3; i++) await clock.runUntilSettled(client.findNode(randomId()));
      expect(client.getRoutingTableInfo().size).toBe(0);
      // The contact comes back; the next lookup rejoins through the bootstrap entry instead of finding nothing.
      network.revive(seedAt);
      await clock.runUntilSettled(
        new Promise((resolve) => clock.setTimeout(() => resolve(undefined), 5_000)),
      );
      const found = await clock.runUntilSettled(client.findNode(randomId()));
      expect(found.map((c) => c.host)).toEqual(['49.1.0.1']);
    } finally {
      await clock.runUntilSettled(Promise.all([seed.stop(), client.stop()]));
    }
  });

  it('lets one /24 hold at most the configured share of any table, by default', async () => {
    const sim = simulation(3);
    try {
      const honest = [await sim.start('48.0.0.1', {}, [])];
      for (let i = 1; i < 20; i++) honest.push(await sim.start(`48.0.${i}.1`, {}, ['48.0.0.1:6881']));
      for (let i = 1; i <= 60; i++) await sim.start(`203.0.113.${i}`, {}, ['48.0.0.1:6881', '48.0.5.1:6881']);
      for (const node of honest) await sim.run(node.findNode(randomId()));
      for (const node of honest) {
        const sybils = hostsIn(node).filter((h) => h.startsWith('203.0.113.')).length;
        expect(sybils).toBeLessThanOrEqual(DEFAULTS.ipDiversityPerTablePerGroup);
      }
      expect(honest[0].stats().ipDiversity).toBeDefined();
    } finally {
      await sim.stopAll();
    }
  });
});
