import { DEFAULTS, idEquals, idFromHex, type KademliaDHT } from '../../libs/kademlia/src';
import { MessageType } from '../../libs/kademlia/src/wire/messages';
import { trueClosest } from '../helpers/oracle';
import { AdversaryNode, Coalition, groundPlaintextIdentity } from './adversary-node';
import {
  contactOf,
  createWorld,
  endpointOf,
  honestJoiner,
  joinInBatches,
  makeHonest,
  percent,
} from './sim-world';

/**
 * An eclipse attempt on one node, in memory: 200 attackers from four /24s (50 addresses each) ground IDs sharing
 * 12+ bits with the target's ID, nearer to it than all but about one of the 2,000 honest nodes. They join, then
 * answer every lookup with each other only, ping the target again and again and ping the 40 honest nodes nearest
 * the target, so that they crowd the target's table and every table around it. The target's own self-lookup and
 * the honest nodes' lookups for the target's ID then meet them everywhere.
 *
 * The attempt fails when the target's table keeps its honest contacts (IP limits hold the attackers to 10 per /24
 * and 2 per /24 in a bucket) and honest nodes' secure lookups for the target's ID still reach the target.
 *
 * Plaintext sessions (see malicious-nodes.test.ts for the cost of encrypted ones); they also make the ID grinding
 * cheap, which only favours the attacker.
 */
const HONEST = 2_000;
const GROUPS = ['203.0.113', '198.51.100', '192.0.2', '100.64.0'];
const PER_GROUP = 50;
const GROUND_BITS = 12;
const PINGS_TO_TARGET = 3;
const NEIGHBOURS_FLOODED = 40;
const LOOKUPS = 100;

jest.setTimeout(300_000);

describe('an eclipse attempt on one node ID (2,000 honest nodes, 200 attackers from four /24s, in memory)', () => {
  it("fails: the target's table keeps honest contacts and secure lookups for its ID still reach it", async () => {
    const world = createWorld({ seed: 0xec1195e, sessions: 'plaintext' });
    const drive = <T>(p: Promise<T>) => world.clock.runUntilSettled(p);
    const honest = Array.from({ length: HONEST }, (_, i) => makeHonest(world, i));
    await joinInBatches(world, { joiners: honest.map((n) => ({ joiner: honestJoiner(n), honest: n })) });
    const target = honest[Math.floor(world.random() * HONEST)];
    const pickHonest = () => honest[Math.floor(world.random() * HONEST)];

    const coalition = new Coalition({
      fakePool: 0,
      fakesPerAnswer: 0,
      fakeHost: () => '0.0.0.0',
      random: world.random,
    });
    const attackers: AdversaryNode[] = [];
    for (const group of GROUPS) {
      for (let h = 1; h <= PER_GROUP; h++) {
        attackers.push(
          new AdversaryNode({
            network: world.network,
            clock: world.clock,
            endpoint: { host: `${group}.${h}`, port: 6881 },
            identity: groundPlaintextIdentity({
              target: target.nodeId,
              bits: GROUND_BITS,
              random: world.random,
            }),
            coalition,
            strategy: 'coalition',
            sessions: world.sessions,
          }),
        );
      }
    }
    await drive(
      Promise.all(attackers.map((a) => a.start([pickHonest(), pickHonest(), pickHonest()].map(endpointOf)))),
    );
    for (const attacker of attackers) attacker.turn();
    const honestIds = honest.map((n) => n.nodeId);
    const neighbours = trueClosest(honestIds, target.nodeId, NEIGHBOURS_FLOODED, target.nodeId).map(
      (id) => honest.find((n) => idEquals(n.nodeId, id))!,
    );
    const ping = (attacker: AdversaryNode, node: KademliaDHT) =>
      attacker.request(contactOf(node), { type: MessageType.PING }).catch(() => undefined);
    for (let round = 0; round < PINGS_TO_TARGET; round++) {
      await drive(Promise.all(attackers.map((a) => ping(a, target))));
      await world.clock.advance(60_000);
    }
    await drive(Promise.all(attackers.flatMap((a) => neighbours.map((n) => ping(a, n)))));
    // The target refreshes its neighbourhood (its periodic self-lookup) through the crowd.
    await drive(target.findNode(target.nodeId));

    const origins = Array.from({ length: LOOKUPS }, () => {
      for (;;) {
        const node = pickHonest();
        if (node !== target) return node;
      }
    });
    const reaches = async (secure: boolean) => {
      const outcomes = await drive(Promise.all(origins.map((o) => o.lookup(target.nodeId, { secure }))));
      // Secure mode really ran 4 disjoint paths (the node passes `paths` down to its lookups).
      expect(outcomes[0].paths).toHaveLength(secure ? 4 : 1);
      return outcomes.filter((o) => o.closest.some((c) => idEquals(c.id, target.nodeId))).length;
    };
    const standardReach = await reaches(false);
    const secureReach = await reaches(true);

    const info = target.getRoutingTableInfo();
    const isAttacker = (host: string) => GROUPS.some((g) => host.startsWith(`${g}.`));
    const attackerEntries = info.contacts.filter((c) => isAttacker(c.host));
    const honestEntries = info.contacts.length - attackerEntries.length;
    const byGroup = GROUPS.map((g) => attackerEntries.filter((c) => c.host.startsWith(`${g}.`)).length);
    const bits = (hex: string) => [...idFromHex(hex)].map((b) => b.toString(2).padStart(8, '0')).join('');
    const worstBucket = Math.max(
      0,
      ...info.buckets.flatMap((bucket) =>
        GROUPS.map(
          (g) =>
            attackerEntries.filter((c) => c.host.startsWith(`${g}.`) && bits(c.id).startsWith(bucket.prefix))
              .length,
        ),
      ),
    );
    const closestInTable = [...info.contacts]
      .map((c) => ({ c, id: idFromHex(c.id) }))
      .sort((a, b) =>
        idEquals(a.id, b.id) ? 0 : Buffer.compare(xor(a.id, target.nodeId), xor(b.id, target.nodeId)),
      )
      .slice(0, DEFAULTS.k);
    const honestAmongClosest = closestInTable.filter(({ c }) => !isAttacker(c.host)).length;
    console.log(
      `eclipse attempt (${attackers.length} attackers, IDs within ${GROUND_BITS}+ bits of the target, from ${GROUPS.length} /24s):\n` +
        `  target table: ${info.size} entries, ${honestEntries} honest, ${attackerEntries.length} attackers ` +
        `(per /24: ${byGroup.join('/')}; worst bucket per /24: ${worstBucket}); honest among its ${DEFAULTS.k} closest: ${honestAmongClosest}\n` +
        `  lookups for the target's ID reaching it: standard ${percent(standardReach, LOOKUPS)}, secure (4 paths) ${percent(secureReach, LOOKUPS)}`,
    );

    for (const count of byGroup) expect(count).toBeLessThanOrEqual(DEFAULTS.ipDiversityPerTablePerGroup);
    expect(worstBucket).toBeLessThanOrEqual(DEFAULTS.ipDiversityPerBucketPerGroup);
    expect(attackerEntries.length).toBeLessThanOrEqual(GROUPS.length * DEFAULTS.ipDiversityPerTablePerGroup);
    // The target is not cut off: most of its table, and a share of its nearest entries, stay honest.
    expect(honestEntries).toBeGreaterThan(attackerEntries.length);
    expect(honestAmongClosest).toBeGreaterThanOrEqual(DEFAULTS.k / 2);
    expect(secureReach / LOOKUPS).toBeGreaterThanOrEqual(0.99);

    await drive(Promise.all([...honest.map((n) => n.stop()), ...attackers.map((a) => a.stop())]));
    await world.clock.advance(100);
    expect(world.clock.pending()).toBe(0);
  });
});

function xor(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}
