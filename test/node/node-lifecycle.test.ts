import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KademliaDHT,
  isKademliaError,
  loadOrCreateIdentity,
  randomId,
  type BootstrappedEvent,
  type KademliaError,
} from '../../libs/kademlia/src';
import { startUdpSwarm, type UdpSwarm } from '../helpers/udp-swarm';

jest.setTimeout(60_000);

const entryOf = (node: KademliaDHT) => `${node.address().address}:${node.address().port}`;

/** Polls condition every 10 ms for up to 5 s (bounded; it only waits, it does not time anything). */
async function eventually(condition: () => boolean): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}

function activeResources(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}

/**
 * The count once it stops changing: a test file that ran before this one in the same worker may still be closing
 * its sockets (libuv lists a closed handle until a later loop turn), which would look like ours closing.
 */
async function steadyCount(kind: string): Promise<number> {
  let last = activeResources(kind);
  for (let i = 0; i < 100; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = activeResources(kind);
    if (now === last) return now;
    last = now;
  }
  return last;
}

describe('KademliaDHT lifecycle', () => {
  it('stop() closes its sockets and leaves no timer behind', async () => {
    const socketsBefore = await steadyCount('UDPWrap');
    const timersBefore = activeResources('Timeout');
    const seed = new KademliaDHT({ bindAddress: '127.60.0.1', bindPort: 0 });
    const peer = new KademliaDHT({ bindAddress: '127.60.0.2', bindPort: 0 });
    let socketsRunning: number;
    try {
      await seed.start([]);
      await peer.start([entryOf(seed)]);
      await peer.store('lifecycle', 'value');
      socketsRunning = activeResources('UDPWrap');
    } finally {
      // Stopped whatever happens: a node left running would keep the test process alive.
      await Promise.all([seed.stop(), peer.stop()]);
    }
    expect(socketsRunning).toBeGreaterThan(socketsBefore);
    // libuv lists a closed handle until a later loop turn (several on a busy machine): wait until it is gone.
    const settled = await eventually(
      () => activeResources('UDPWrap') === socketsBefore && activeResources('Timeout') <= timersBefore,
    );
    expect({ settled, sockets: activeResources('UDPWrap'), timers: activeResources('Timeout') }).toEqual({
      settled: true,
      sockets: socketsBefore,
      timers: expect.any(Number),
    });
    expect(seed.isRunning).toBe(false);
  });

  it('bootstraps through a DNS name (localhost) and exposes nodeId and address()', async () => {
    const seed = new KademliaDHT({ bindAddress: '127.0.0.1', bindPort: 0 });
    await seed.start([]);
    const client = new KademliaDHT({ bindAddress: '127.0.0.1', bindPort: 0 });
    try {
      const report = await client.start([`localhost:${seed.address().port}`]);
      expect(report.bootstrapped).toBe(true);
      expect(client.nodeId).toBeInstanceOf(Uint8Array);
      expect(client.nodeId.length).toBe(20);
      expect(client.address()).toEqual({ address: '127.0.0.1', port: expect.any(Number) });
      const contacts = await client.findNode(randomId());
      expect(contacts.map((c) => Buffer.from(c.id).toString('hex'))).toEqual([
        Buffer.from(seed.nodeId).toString('hex'),
      ]);
      expect(contacts[0]).toMatchObject({ host: '127.0.0.1', port: seed.address().port });
    } finally {
      await Promise.all([client.stop(), seed.stop()]);
    }
  });

  it('reports bootstrapFailed when no bootstrap node answers, then joins once one appears', async () => {
    const seed = new KademliaDHT({ bindAddress: '127.60.1.1', bindPort: 0 });
    await seed.start([]);
    const port = seed.address().port;
    await seed.stop(); // the address is known but nobody answers there any more
    const client = new KademliaDHT({
      bindAddress: '127.60.1.2',
      bindPort: 0,
      bootstrapAttempts: 2,
      bootstrapRetryMinMs: 50,
      bootstrapRetryMaxMs: 200,
    });
    const failed = new Promise<KademliaError>((resolve) => client.once('bootstrapFailed', resolve));
    const joined = new Promise<BootstrappedEvent>((resolve) => client.once('bootstrapped', resolve));
    try {
      const report = await client.start([`127.60.1.1:${port}`]);
      expect(report).toMatchObject({ bootstrapped: false, answered: 0 });
      expect((await failed).code).toBe('BOOTSTRAP_FAILED');
      const revived = new KademliaDHT({ bindAddress: '127.60.1.1', bindPort: port });
      await revived.start([]);
      try {
        const event = await joined;
        expect(event.answered).toBe(1);
        expect(client.getRoutingTableInfo().size).toBe(1);
      } finally {
        await revived.stop();
      }
    } finally {
      await client.stop();
    }
  });

  it('rejects misuse with stable error codes', async () => {
    const node = new KademliaDHT({ bindAddress: '127.60.2.1', bindPort: 0 });
    expect(() => node.nodeId).toThrow(expect.objectContaining({ code: 'NOT_STARTED' }));
    await expect(node.findNode(randomId())).rejects.toMatchObject({ code: 'NOT_STARTED' });
    expect(() => new KademliaDHT({ bindPort: 70_000 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    await node.start([]);
    try {
      await expect(node.start([])).rejects.toMatchObject({ code: 'ALREADY_STARTED' });
      await expect(node.store('big', new Uint8Array(1001))).rejects.toMatchObject({
        code: 'VALUE_TOO_LARGE',
      });
    } finally {
      await node.stop();
    }
    // A malformed bootstrap entry fails start() before anything is bound, so nothing is left open.
    const socketsBefore = activeResources('UDPWrap');
    const bad = new KademliaDHT({ bindAddress: '127.60.2.2', bindPort: 0 });
    const failure = await bad.start(['no-port-here']).catch((e: unknown) => e);
    expect(isKademliaError(failure, 'CONFIG_INVALID')).toBe(true);
    expect(bad.isRunning).toBe(false);
    expect(activeResources('UDPWrap')).toBe(socketsBefore);
  });
});

describe('KademliaDHT in a small network', () => {
  let swarm: UdpSwarm;

  beforeAll(async () => {
    swarm = await startUdpSwarm({ size: 25 });
  });
  afterAll(async () => swarm?.stop());

  it('emits lookupCompleted, dataStored and routing events as it works', async () => {
    const [a, b] = [swarm.nodes[3], swarm.nodes[7]];
    const lookups: unknown[] = [];
    const stored: unknown[] = [];
    a.on('lookupCompleted', (e) => lookups.push(e));
    for (const node of swarm.nodes) node.on('dataStored', (e) => stored.push(e));
    const report = await a.store('events-key', 'events-value');
    expect(report.acknowledged).toBe(report.attempted);
    expect(report.acknowledged).toBeGreaterThanOrEqual(20);
    expect(stored.length).toBe(report.acknowledged);
    expect(lookups).toEqual([expect.objectContaining({ kind: 'value', finishReason: 'converged' })]);
    expect(Buffer.from((await b.findValue('events-key'))!).toString()).toBe('events-value');
    expect(await b.findValue('never-stored')).toBeNull();
  });

  it('streams lookup answers as an async iterable and aborts when the caller stops early', async () => {
    const node = swarm.nodes[5];
    const seen: string[] = [];
    const stream = node.findNodeStream(randomId());
    for await (const answer of stream) {
      seen.push(Buffer.from(answer.from.id).toString('hex'));
      if (seen.length === 2) break;
    }
    expect(seen.length).toBe(2);
    const full = node.findNodeStream(randomId());
    let answers = 0;
    let result = await full.next();
    while (!result.done) {
      answers++;
      result = await full.next();
    }
    expect(answers).toBeGreaterThanOrEqual(20);
    expect(result.value.closest.length).toBe(20);
    expect(result.value.finishReason).toBe('converged');
  });

  it('rejects a lookup aborted by the caller with LOOKUP_ABORTED', async () => {
    const controller = new AbortController();
    const pending = swarm.nodes[2].findNode(randomId(), { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'LOOKUP_ABORTED' });
  });

  it('keeps a client-mode node out of every routing table while it queries', async () => {
    const client = new KademliaDHT({ bindAddress: '127.60.3.1', bindPort: 0, clientMode: true });
    await client.start([entryOf(swarm.nodes[0])]);
    try {
      const contacts = await client.findNode(randomId());
      expect(contacts.length).toBe(20);
      const clientId = Buffer.from(client.nodeId).toString('hex');
      for (const node of swarm.nodes) {
        expect(node.getRoutingTableInfo().contacts.map((c) => c.id)).not.toContain(clientId);
      }
    } finally {
      await client.stop();
    }
  });
});

describe('KademliaDHT persistence', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kadfleet-node-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('keeps its identity across restarts and warm-starts from its routing-table snapshot', async () => {
    const swarm = await startUdpSwarm({ size: 12 });
    try {
      const identity = await loadOrCreateIdentity(join(dir, 'identity.json'));
      const snapshotPath = join(dir, 'table.cbor');
      const first = new KademliaDHT({ identity, snapshotPath, bindAddress: '127.60.4.1', bindPort: 0 });
      await first.start([entryOf(swarm.nodes[0])]);
      const sizeBefore = first.getRoutingTableInfo().size;
      await first.stop(); // writes the snapshot

      const reloaded = await loadOrCreateIdentity(join(dir, 'identity.json'));
      expect(Buffer.from(reloaded.nodeId).equals(Buffer.from(identity.nodeId))).toBe(true);
      // No bootstrap entries at all: the snapshot alone brings the node back into the network.
      const second = new KademliaDHT({
        identity: reloaded,
        snapshotPath,
        bindAddress: '127.60.4.1',
        bindPort: 0,
      });
      const report = await second.start([]);
      try {
        expect(report.bootstrapped).toBe(true);
        expect(report.answered).toBe(sizeBefore);
        expect(second.getRoutingTableInfo().size).toBeGreaterThanOrEqual(sizeBefore);
      } finally {
        await second.stop();
      }
    } finally {
      await swarm.stop();
    }
  });
});

describe('KademliaDHT over IPv6', () => {
  it('runs a network on ::1 and stores and finds values', async () => {
    const seed = new KademliaDHT({ bindAddress: '::1', bindPort: 0 });
    await seed.start([]);
    const peers = [
      new KademliaDHT({ bindAddress: '::1', bindPort: 0 }),
      new KademliaDHT({ bindAddress: '::1', bindPort: 0 }),
    ];
    try {
      for (const peer of peers) await peer.start([`[::1]:${seed.address().port}`]);
      expect(seed.address().address).toBe('::1');
      const report = await peers[0].store('v6-key', 'v6-value');
      expect(report.acknowledged).toBe(2);
      expect(Buffer.from((await peers[1].findValue('v6-key'))!).toString()).toBe('v6-value');
    } finally {
      await Promise.all([seed, ...peers].map((n) => n.stop()));
    }
  });
});
