import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildLink } from '../../bench/child-link';
import { DEFAULTS, KademliaDHT, randomId } from '../../libs/kademlia/src';
import { idEquals } from '../../libs/kademlia/src/id/node-id';
import { median, sameIdList, trueClosest } from '../helpers/oracle';
import { startUdpSwarm, type UdpSwarm } from '../helpers/udp-swarm';
import type { FloodArgs, FloodReport } from './flooder';

/**
 * Issue 3's flood test: a separate process floods one node of a small real-UDP network with junk and with
 * handshake initiations from fresh identities, at full speed from several addresses, while a well-behaved
 * client keeps looking things up through it. The node must keep serving, keep its memory bounded and count
 * the flood in its drop counters.
 */
jest.setTimeout(90_000);

const SWARM = 24;
/** A smaller k than the default 20 makes "the k closest" a real choice among 24 nodes. */
const K = 8;
const FLOOD_MS = 12_000;
const FLOOD_SOURCES = ['127.66.1.1', '127.66.2.1', '127.66.3.1', '127.66.4.1', '127.67.1.1', '127.67.2.1'];
const CLIENT_HOST = '127.31.1.1';
/** Fresh clients join through the victim alone, during the flood, from addresses of their own. */
const JOINER_HOST = (i: number) => `127.32.${i + 1}.1`;
/** Far above what a healthy node needs; a leak of per-packet or per-handshake state would blow through it. */
const HEAP_GROWTH_LIMIT_BYTES = 256 * 2 ** 20;

interface LookupSample {
  /** The closest node found is the true closest honest node: the lookup did its job. */
  ok: boolean;
  /** All k found are the true k closest: no node, the victim included, was missed for a lost reply. */
  exact: boolean;
  ms: number;
}

/** The drop counters dht.stats() reports, with the guard's part read defensively (it is optional). */
interface GuardStats {
  rateLimit?: { trackedIps: number; trackedGroups: number; activeBans: number; droppedTotal: number };
}

describe('a node flooded from another process over loopback', () => {
  let swarm: UdpSwarm;
  let victim: KademliaDHT;
  let client: KademliaDHT;
  let flooder: ChildLink | undefined;
  const joiners: KademliaDHT[] = [];

  beforeAll(async () => {
    swarm = await startUdpSwarm({ size: SWARM, options: { k: K } });
    victim = swarm.nodes[0];
    client = new KademliaDHT({ bindAddress: CLIENT_HOST, bindPort: 0, clientMode: true, k: K });
    const report = await client.start([entryOf(victim)]);
    expect(report.bootstrapped).toBe(true);
  });

  afterAll(async () => {
    await flooder?.close();
    await Promise.all(joiners.map((j) => j.stop()));
    await client?.stop();
    await swarm?.stop();
  });

  it('keeps answering lookups, keeps memory bounded and counts the flood by reason', async () => {
    const ids = swarm.nodes.map((n) => n.nodeId);
    const lookup = async (from: KademliaDHT): Promise<LookupSample> => {
      const target = randomId();
      const started = performance.now();
      try {
        const found = await from.findNode(target);
        const expected = trueClosest(ids, target, K);
        return {
          ok: found.length > 0 && idEquals(found[0].id, expected[0]),
          exact: sameIdList(
            found.map((c) => c.id),
            expected,
          ),
          ms: performance.now() - started,
        };
      } catch {
        return { ok: false, exact: false, ms: performance.now() - started };
      }
    };

    const before: LookupSample[] = [];
    for (let i = 0; i < 15; i++) before.push(await lookup(client));
    const statsBefore = victim.stats();
    const memoryBefore = process.memoryUsage();

    flooder = new ChildLink({
      script: join(__dirname, 'flooder-entry.js'),
      args: {
        victim: {
          host: victim.address().address,
          port: victim.address().port,
          publicKeyHex: Buffer.from(victim.publicKey).toString('hex'),
        },
        sources: FLOOD_SOURCES,
        durationMs: FLOOD_MS,
        junkPerRound: 256,
        initsPerRound: 3,
      } satisfies FloodArgs,
      deadlineMs: 60_000,
      stallMs: 15_000,
      log: (line) => console.log(line),
      name: 'flooder',
    });
    await flooder.next('ready');
    const done = flooder.request({ type: 'go' }, 'done');
    let flooding = true;
    void done.finally(() => (flooding = false)).catch(() => undefined);

    // While the flood runs: the client looks up and pings the victim; every few seconds a brand-new client
    // joins through the victim alone; the victim's memory and bounded structures are sampled.
    const during: LookupSample[] = [];
    const pings = { sent: 0, answered: 0 };
    const joins = { tried: 0, joined: 0 };
    const joinAttempts: Promise<void>[] = [];
    /**
     * A real client retries: a request to the victim can be lost in its overflowing socket buffer. start() stops
     * waiting after its first rounds but the node keeps retrying with backoff, so the client waits for
     * 'bootstrapped' (bounded here), then looks up (up to 5 tries).
     */
    const joinAndLookUp = async (joiner: KademliaDHT): Promise<boolean> => {
      const started = await joiner.start([entryOf(victim)]).catch(() => undefined);
      const joined =
        started?.bootstrapped === true ||
        (started !== undefined &&
          (await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), 25_000);
            joiner.once('bootstrapped', () => {
              clearTimeout(timer);
              resolve(true);
            });
          })));
      // Its one contact is the victim, whose answers can drown in the flood: retry as a client would.
      for (let attempt = 0; joined && attempt < 5; attempt++) {
        if ((await lookup(joiner)).ok) return true;
        await sleep(500);
      }
      return false;
    };
    const peaks = { heapUsed: 0, rss: 0, sessionPeers: 0, sessionIndexes: 0, trackedIps: 0, activeBans: 0 };
    const sample = () => {
      const memory = process.memoryUsage();
      const stats = victim.stats();
      const session = stats.session as { peers: number; indexes: number } | undefined;
      const limiter = (stats as { guard?: GuardStats }).guard?.rateLimit;
      peaks.heapUsed = Math.max(peaks.heapUsed, memory.heapUsed);
      peaks.rss = Math.max(peaks.rss, memory.rss);
      peaks.sessionPeers = Math.max(peaks.sessionPeers, session?.peers ?? 0);
      peaks.sessionIndexes = Math.max(peaks.sessionIndexes, session?.indexes ?? 0);
      peaks.trackedIps = Math.max(peaks.trackedIps, limiter?.trackedIps ?? 0);
      peaks.activeBans = Math.max(peaks.activeBans, limiter?.activeBans ?? 0);
    };
    const sampler = setInterval(sample, 250);
    let nextJoinAt = performance.now() + 1_500;
    try {
      while (flooding) {
        during.push(await lookup(client));
        pings.sent++;
        await client
          .ping({ host: victim.address().address, port: victim.address().port })
          .then(() => pings.answered++)
          .catch(() => undefined);
        if (flooding && performance.now() >= nextJoinAt) {
          nextJoinAt = performance.now() + 3_000;
          const joiner = new KademliaDHT({
            bindAddress: JOINER_HOST(joins.tried++),
            bindPort: 0,
            clientMode: true,
            k: K,
          });
          joiners.push(joiner);
          // Each newcomer joins in the background, so the client's lookups go on meanwhile.
          joinAttempts.push(joinAndLookUp(joiner).then((found) => void (found && joins.joined++)));
        }
      }
    } finally {
      clearInterval(sampler);
    }
    await Promise.all(joinAttempts);
    sample();
    const flood = ((await done) as unknown as { report: FloodReport }).report;
    const statsFlooded = victim.stats();

    // After the flood: the victim still answers, and lookups are as good as before.
    await sleep(500);
    const after: LookupSample[] = [];
    for (let i = 0; i < 15; i++) after.push(await lookup(client));
    const pong = await client.ping({ host: victim.address().address, port: victim.address().port });

    const floodPackets = flood.junk + flood.junkWithHeader + flood.inits;
    const received = statsFlooded.transport.packetsIn - statsBefore.transport.packetsIn;
    const drops = diff(statsFlooded.drops, statsBefore.drops);
    const droppedInFlood = statsFlooded.droppedTotal - statsBefore.droppedTotal;
    const sessionBefore = statsBefore.session as Record<string, number> | undefined;
    const sessionAfter = statsFlooded.session as Record<string, number> | undefined;
    const sessionDelta = (name: string) => (sessionAfter?.[name] ?? 0) - (sessionBefore?.[name] ?? 0);
    const summary = {
      flooder: {
        ...flood,
        seconds: round(flood.seconds),
        packetsPerSecond: Math.round(floodPackets / flood.seconds),
      },
      victim: {
        received,
        dropped: droppedInFlood,
        dropsByReason: drops,
        handshakesAccepted: sessionDelta('handshakesAccepted'),
        dhOperations: sessionDelta('dhOperations'),
        cookiesSent: sessionDelta('cookiesSent'),
        peaks: { ...peaks, heapUsedMiB: mib(peaks.heapUsed), rssMiB: mib(peaks.rss) },
        heapGrowthMiB: mib(peaks.heapUsed - memoryBefore.heapUsed),
        guard: (statsFlooded as { guard?: GuardStats }).guard?.rateLimit,
      },
      client: {
        before: rate(before),
        during: rate(during),
        after: rate(after),
        pingsToVictim: pings,
        freshClientsJoiningThroughVictim: joins,
      },
    };
    console.log(`flood: ${JSON.stringify(summary, null, 2)}`);

    // The flood was real: the victim's socket took in a large part of it.
    expect(floodPackets).toBeGreaterThan(10_000);
    expect(flood.inits).toBeGreaterThan(100);
    expect(received).toBeGreaterThan(floodPackets / 4);
    // ...and was counted: nearly every flood packet the victim received is a drop with a reason.
    expect(droppedInFlood).toBeGreaterThan((received - sessionDelta('handshakesAccepted')) * 0.5);
    expect(Object.values(drops).reduce((a, b) => a + b, 0)).toBe(droppedInFlood);
    // Well-behaved clients kept being served, through the victim.
    // The victim, the swarm and the client share this process, whose one core spends most of the flood reading
    // datagrams it then drops (Node has no batched receive): lookups slow down, so fewer of them fit in 12 s.
    expect(during.length).toBeGreaterThanOrEqual(5);
    expect(successRate(during)).toBeGreaterThanOrEqual(0.9);
    // Exact top k during the flood needs every one of the k to answer, the victim too, whose socket overflows: it
    // depends on how much CPU this shared process gets (57-100% measured), so it is printed, not asserted; after the
    // flood it must be back to exact (below).
    expect(pings.answered / pings.sent).toBeGreaterThanOrEqual(0.9);
    expect(joins.tried).toBeGreaterThanOrEqual(2);
    expect(joins.joined).toBe(joins.tried);
    // Memory stayed bounded: every table at or under its cap, and the heap well under a generous ceiling.
    expect(peaks.sessionPeers).toBeLessThanOrEqual(DEFAULTS.maxSessions);
    expect(peaks.sessionIndexes).toBeLessThanOrEqual(2 * DEFAULTS.maxSessions);
    expect(peaks.trackedIps).toBeLessThanOrEqual(DEFAULTS.rateMaxTrackedIps);
    expect(peaks.activeBans).toBeLessThanOrEqual(DEFAULTS.maxBans);
    expect(peaks.heapUsed - memoryBefore.heapUsed).toBeLessThan(HEAP_GROWTH_LIMIT_BYTES);
    // After the flood the victim answers at once and lookups are exact again.
    expect(pong.contact.id).toEqual(victim.nodeId);
    expect(successRate(after)).toBeGreaterThanOrEqual(0.95);
    expect(after.filter((s) => s.exact).length / after.length).toBeGreaterThanOrEqual(0.9);
  });
});

function entryOf(node: KademliaDHT): string {
  return `${node.address().address}:${node.address().port}`;
}

function successRate(samples: readonly LookupSample[]): number {
  return samples.length === 0 ? 0 : samples.filter((s) => s.ok).length / samples.length;
}

function rate(samples: readonly LookupSample[]) {
  return {
    lookups: samples.length,
    foundClosestPercent: round(100 * successRate(samples)),
    exactTopKPercent: round((100 * samples.filter((s) => s.exact).length) / Math.max(1, samples.length)),
    medianMs: round(median(samples.map((s) => s.ms))),
  };
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [reason, count] of Object.entries(after)) {
    const delta = count - (before[reason] ?? 0);
    if (delta > 0) out[reason] = delta;
  }
  return out;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function mib(bytes: number): number {
  return round(bytes / 2 ** 20);
}
