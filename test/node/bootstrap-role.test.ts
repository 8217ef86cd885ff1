import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KademliaDHT,
  MemoryNetwork,
  VirtualClock,
  compareDistance,
  generateIdentity,
  idToHex,
  isKademliaError,
  randomId,
  type Contact,
  type KademliaOptions,
} from '../../libs/kademlia/src';
import { createRandom } from '../../libs/kademlia/src/sim/random';

jest.setTimeout(60_000);

/**
 * runUntilSettled for work that also waits on real I/O (snapshot files): while the file system works, the virtual
 * clock has nothing queued, which it would report as a stall; wait a real moment and run the clock again.
 */
async function settleWithIo<T>(clock: VirtualClock, promise: Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await clock.runUntilSettled(promise);
    } catch (err) {
      if (!isKademliaError(err, 'SIM_STALLED') || attempt >= 200) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** A bootstrap node with the role on, and a network of peers that learn of each other through it. */
async function fleet(input: { peers: number; snapshotPath?: string; seed: number }) {
  const random = createRandom(input.seed);
  const clock = new VirtualClock();
  const network = new MemoryNetwork({ clock, random, latencyMs: () => 5 + random() * 20 });
  const identity = generateIdentity();
  const make = (host: string, options: KademliaOptions = {}) =>
    new KademliaDHT({
      transport: network.createTransport({ host, port: 6881 }),
      clock,
      joinRefresh: false,
      ...options,
    });
  const bootstrapOptions: KademliaOptions = {
    identity,
    bootstrapRole: { capacity: 1_000 },
    snapshotPath: input.snapshotPath,
  };
  const bootstrap = make('50.0.0.1', bootstrapOptions);
  await settleWithIo(clock, bootstrap.start([]));
  const peers: KademliaDHT[] = [];
  for (let i = 0; i < input.peers; i++) {
    const peer = make(`51.${i >> 8}.${i & 255}.1`);
    await clock.runUntilSettled(peer.start(['50.0.0.1:6881']));
    peers.push(peer);
  }
  // A few maintenance ticks: the buffer's verification rounds ping what it has been offered.
  await clock.runUntilSettled(new Promise((resolve) => clock.setTimeout(() => resolve(undefined), 30_000)));
  return {
    clock,
    bootstrap,
    peers,
    restartBootstrap: async () => {
      await settleWithIo(clock, bootstrap.stop());
      const again = make('50.0.0.1', bootstrapOptions);
      await settleWithIo(clock, again.start([]));
      return again;
    },
    client: async () => {
      const client = make('52.0.0.1', { clientMode: true });
      await clock.runUntilSettled(client.start(['50.0.0.1:6881']));
      return client;
    },
    stop: (extra: KademliaDHT[] = []) =>
      settleWithIo(clock, Promise.all([bootstrap, ...peers, ...extra].map((n) => n.stop()))),
  };
}

const hexes = (contacts: Contact[]) => contacts.map((c) => idToHex(c.id));

describe('a node in bootstrap role', () => {
  it('verifies the contacts it meets and answers FIND_NODE with the closest verified ones', async () => {
    const f = await fleet({ peers: 80, seed: 11 });
    try {
      const buffer = f.bootstrap.stats().bootstrapBuffer!;
      expect(buffer.verified).toBe(80);

      const client = await f.client();
      const target = randomId();
      // Every live node is a candidate: the peers and the bootstrap node itself.
      const truth = [...f.peers, f.bootstrap]
        .map((p) => ({ id: p.nodeId }))
        .sort((a, b) => compareDistance(target, a.id, b.id))
        .slice(0, 20)
        .map((c) => idToHex(c.id));
      const found = await f.clock.runUntilSettled(client.findNode(target));
      expect(hexes(found)).toEqual(truth);
      await f.stop([client]);
    } catch (err) {
      await f.stop();
      throw err;
    }
  });

  it('never hands out a contact it has not verified', async () => {
    const f = await fleet({ peers: 30, seed: 12 });
    try {
      // Peers go away; the buffer still lists them as verified until their next re-verification fails, but a
      // contact only ever named by others (never pinged) must not appear. Offer an unreachable one directly.
      const stats = f.bootstrap.stats().bootstrapBuffer!;
      expect(stats.pending).toBe(0);
      const ghostId = generateIdentity();
      const ghost: Contact = {
        id: ghostId.nodeId,
        publicKey: ghostId.publicKey,
        host: '53.0.0.1',
        port: 6881,
      };
      const role = (
        f.bootstrap as unknown as { running: { runtime: { bootstrapRole: { offer(c: Contact): unknown } } } }
      ).running.runtime.bootstrapRole;
      expect(role.offer(ghost)).toBe('added');
      const client = await f.client();
      const found = await f.clock.runUntilSettled(client.findNode(ghost.id));
      expect(hexes(found)).not.toContain(idToHex(ghost.id));
      await f.clock.runUntilSettled(
        new Promise((resolve) => f.clock.setTimeout(() => resolve(undefined), 60_000)),
      );
      expect(f.bootstrap.stats().bootstrapBuffer!.pending).toBe(0);
      await f.stop([client]);
    } catch (err) {
      await f.stop();
      throw err;
    }
  });

  it('restarts warm: the buffer comes back from its snapshot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kad-role-'));
    const f = await fleet({ peers: 40, seed: 13, snapshotPath: join(dir, 'table.snapshot') });
    let restarted: KademliaDHT | undefined;
    try {
      restarted = await f.restartBootstrap();
      const buffer = restarted.stats().bootstrapBuffer!;
      expect(buffer.size).toBe(40);
    } finally {
      await f.stop(restarted ? [restarted] : []);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
