import { DEFAULTS, idFromHex, type KademliaDHT } from '../../libs/kademlia/src';
import { MessageType } from '../../libs/kademlia/src/wire/messages';
import { AdversaryNode, Coalition } from './adversary-node';
import {
  contactOf,
  createWorld,
  endpointOf,
  honestJoiner,
  joinInBatches,
  makeHonest,
  percent,
  seededId,
  seededIdentity,
} from './sim-world';

/**
 * A Sybil swarm, in memory: 1,000 identities from one /24 (250 addresses × 4 ports in 203.0.113.0/24) join a
 * network of 2,000 honest nodes (each in its own /24), answer every lookup with each other only and ping 20
 * random honest nodes each, so honest nodes meet them everywhere. The node's default
 * IP-diversity limits must hold in every honest routing table: at most ipDiversityPerTablePerGroup entries from
 * the /24, at most ipDiversityPerBucketPerGroup in any one bucket, at most one per exact IP.
 *
 * Plaintext sessions: see malicious-nodes.test.ts for the measured cost of encrypted ones at this size. The
 * limits act on addresses in the routing table, above the session layer.
 */
const HONEST = 2_000;
const SYBILS = 1_000;
const PORTS_PER_IP = 4;
const PINGS_PER_SYBIL = 20;
const HONEST_LOOKUPS = 200;
const SYBIL_PREFIX = '203.0.113.';

jest.setTimeout(300_000);

/** Entries of one routing table from the Sybil /24: in total, per bucket and per exact IP. */
function sybilCounts(node: KademliaDHT) {
  const info = node.getRoutingTableInfo();
  const sybils = info.contacts.filter((c) => c.host.startsWith(SYBIL_PREFIX));
  const perIp = new Map<string, number>();
  for (const c of sybils) perIp.set(c.host, (perIp.get(c.host) ?? 0) + 1);
  // A bucket holds the IDs whose first `depth` bits are its prefix.
  const bits = (hex: string) => [...idFromHex(hex)].map((byte) => byte.toString(2).padStart(8, '0')).join('');
  const perBucket = info.buckets.map(
    (bucket) => sybils.filter((c) => bits(c.id).startsWith(bucket.prefix)).length,
  );
  return {
    total: sybils.length,
    maxPerBucket: Math.max(0, ...perBucket),
    maxPerIp: Math.max(0, ...perIp.values()),
    tableSize: info.size,
  };
}

describe('a Sybil swarm of 1,000 IDs from one /24 against 2,000 honest nodes (in memory)', () => {
  it('holds at most the configured per-/24 slots in every honest routing table', async () => {
    const world = createWorld({ seed: 0x5b11, sessions: 'plaintext' });
    const drive = <T>(p: Promise<T>) => world.clock.runUntilSettled(p);
    const cpu = () => Math.round(process.cpuUsage().user / 1e3);
    const t0 = cpu();
    const honest = Array.from({ length: HONEST }, (_, i) => makeHonest(world, i));
    await joinInBatches(world, { joiners: honest.map((n) => ({ joiner: honestJoiner(n), honest: n })) });

    const coalition = new Coalition({
      fakePool: 0,
      fakesPerAnswer: 0,
      fakeHost: () => '0.0.0.0',
      random: world.random,
    });
    const sybils = Array.from(
      { length: SYBILS },
      (_, s) =>
        new AdversaryNode({
          network: world.network,
          clock: world.clock,
          endpoint: {
            host: `${SYBIL_PREFIX}${1 + Math.floor(s / PORTS_PER_IP)}`,
            port: 6881 + (s % PORTS_PER_IP),
          },
          coalition,
          strategy: 'coalition',
          sessions: world.sessions,
          identity: seededIdentity(world),
        }),
    );
    const pickHonest = () => honest[Math.floor(world.random() * honest.length)];
    // Join (a self-lookup each), then lie, flood and look around.
    for (let at = 0; at < SYBILS; at += 100) {
      const batch = sybils.slice(at, at + 100);
      await drive(
        Promise.all(batch.map((s) => s.start([pickHonest(), pickHonest(), pickHonest()].map(endpointOf)))),
      );
    }
    const t1 = cpu();
    for (const sybil of sybils) sybil.turn();
    for (let at = 0; at < SYBILS; at += 100) {
      const batch = sybils.slice(at, at + 100);
      await drive(
        Promise.all(
          batch.map(async (sybil) => {
            const targets = Array.from({ length: PINGS_PER_SYBIL }, pickHonest);
            await Promise.all(
              targets.map((node) =>
                sybil.request(contactOf(node), { type: MessageType.PING }).catch(() => undefined),
              ),
            );
          }),
        ),
      );
    }
    const t2 = cpu();
    // Honest nodes go on looking things up, and meet the swarm in every answer it gives.
    const lookups = Array.from({ length: HONEST_LOOKUPS }, () => pickHonest().lookup(seededId(world)));
    await drive(Promise.all(lookups));

    console.log(`cpu ms: joins ${t1 - t0}, flood ${t2 - t1}, lookups ${cpu() - t2}`);
    const counts = honest.map(sybilCounts);
    const perTable = DEFAULTS.ipDiversityPerTablePerGroup;
    const perBucket = DEFAULTS.ipDiversityPerBucketPerGroup;
    const holding = counts.filter((c) => c.total > 0).length;
    const atCap = counts.filter((c) => c.total === perTable).length;
    const totalSybil = counts.reduce((n, c) => n + c.total, 0);
    const totalEntries = counts.reduce((n, c) => n + c.tableSize, 0);
    console.log(
      `Sybil swarm (${SYBILS} IDs on ${SYBIL_PREFIX}0/24 vs ${HONEST} honest nodes):\n` +
        `  honest tables holding any Sybil: ${percent(holding, HONEST)}; at the per-/24 cap (${perTable}): ${percent(atCap, HONEST)}\n` +
        `  Sybil entries per table: max ${Math.max(...counts.map((c) => c.total))}, mean ${(totalSybil / HONEST).toFixed(2)}; ` +
        `max per bucket ${Math.max(...counts.map((c) => c.maxPerBucket))}, max per IP ${Math.max(...counts.map((c) => c.maxPerIp))}\n` +
        `  Sybil share of all honest routing-table entries: ${percent(totalSybil, totalEntries)} ` +
        `(the swarm is ${percent(SYBILS, SYBILS + HONEST)} of the IDs)`,
    );

    for (const c of counts) {
      expect(c.total).toBeLessThanOrEqual(perTable);
      expect(c.maxPerBucket).toBeLessThanOrEqual(perBucket);
      expect(c.maxPerIp).toBeLessThanOrEqual(DEFAULTS.ipDiversityPerTablePerIp);
    }
    // The swarm did reach the tables: the limits, not a lack of contact, are what held it.
    expect(atCap).toBeGreaterThan(0);

    await drive(Promise.all([...honest.map((n) => n.stop()), ...sybils.map((s) => s.stop())]));
    await world.clock.advance(100);
    expect(world.clock.pending()).toBe(0);
  });
});
