import type { KademliaDHT, LookupOutcome, NodeId } from '../../libs/kademlia/src';
import { idEquals } from '../../libs/kademlia/src/id/node-id';
import { median, trueClosest } from '../helpers/oracle';
import { AdversaryNode, Coalition, type AdversaryStrategy } from './adversary-node';
import {
  createWorld,
  honestJoiner,
  seededId,
  seededIdentity,
  joinInBatches,
  makeHonest,
  percent,
  type Joiner,
} from './sim-world';

/**
 * 20% malicious nodes, in memory: 2,000 honest nodes and 500 adversaries join in random order (each in its own
 * /24, so IP limits do not single them out), then the adversaries turn. A third of them answer lookups with the
 * contacts they know farthest from the target, a third with made-up unreachable contacts ground close to the
 * target, a third with only other adversaries; every adversary acknowledges STOREs and keeps nothing, and half of
 * them answer every FIND_VALUE with one colluding forged value. The same lookups and value operations then run in
 * standard mode (one path) and secure mode (4 disjoint paths).
 *
 * Sessions are plaintext: measured on this machine, building 1,000 nodes and running 200 lookups took 14 s of CPU
 * with plaintext sessions and 62 s with encrypted ones (4.4x); what is under test is the lookup and value logic,
 * which is the same above either session layer. Plaintext keys are self-asserted, but these adversaries do not
 * exploit that: each has one identity at one address.
 */
const HONEST = 2_000;
const ADVERSARIES = 500;
const LOOKUPS = 150;
const VALUES = 100;
const CONCURRENCY = 50;
const K = 20;
const STRATEGIES: AdversaryStrategy[] = ['far', 'fake', 'coalition'];

jest.setTimeout(300_000);

interface ModeFigures {
  paths: number;
  honestTop: number;
  closestHonest: number;
  medianRequests: number;
  valuesFound: number;
  forgedReturned: number;
}

async function inBatches<T, R>(
  items: readonly T[],
  run: (item: T) => Promise<R>,
  drive: (p: Promise<R[]>) => Promise<R[]>,
) {
  const out: R[] = [];
  for (let at = 0; at < items.length; at += CONCURRENCY) {
    out.push(...(await drive(Promise.all(items.slice(at, at + CONCURRENCY).map(run)))));
  }
  return out;
}

describe('lookups and values with 20% malicious nodes (2,000 honest + 500 adversaries, in memory)', () => {
  it('secure-mode lookups find the true closest honest nodes and stored values at least 99% of the time', async () => {
    const world = createWorld({ seed: 0xa77ac, sessions: 'plaintext' });
    const drive = <T>(p: Promise<T>) => world.clock.runUntilSettled(p);
    const coalition = new Coalition({
      fakePool: 2 ** 18,
      fakesPerAnswer: 20,
      random: world.random,
      // 10.200.0.0/13: nothing listens there.
      fakeHost: (n) => `10.${200 + ((n >> 16) & 7)}.${(n >> 8) & 255}.${n & 255}`,
    });
    const honest: KademliaDHT[] = [];
    const adversaries: AdversaryNode[] = [];
    const joiners: { joiner: Joiner; honest?: KademliaDHT }[] = [];
    for (let i = 0; i < HONEST; i++) {
      const node = makeHonest(world, i);
      honest.push(node);
      joiners.push({ joiner: honestJoiner(node), honest: node });
    }
    for (let j = 0; j < ADVERSARIES; j++) {
      const adversary = new AdversaryNode({
        network: world.network,
        clock: world.clock,
        endpoint: { host: `10.${100 + (j >> 8)}.${j & 255}.1`, port: 6881 },
        coalition,
        strategy: STRATEGIES[j % STRATEGIES.length],
        forgeValues: j % 2 === 0,
        sessions: world.sessions,
        identity: seededIdentity(world),
      });
      adversaries.push(adversary);
      joiners.push({ joiner: adversary });
    }
    // Random join order (the first stays honest: it starts the network).
    for (let i = joiners.length - 1; i > 1; i--) {
      const j = 1 + Math.floor(world.random() * i);
      [joiners[i], joiners[j]] = [joiners[j], joiners[i]];
    }
    const tj = Math.round(process.cpuUsage().user / 1e3);
    await joinInBatches(world, { joiners });
    console.log(`cpu ms: join ${Math.round(process.cpuUsage().user / 1e3) - tj}`);
    for (const adversary of adversaries) adversary.turn();

    const honestIds = honest.map((n) => n.nodeId);
    const allIds = [...honestIds, ...adversaries.map((a) => a.identity.nodeId)];
    const isHonest = new Set(honestIds.map((id) => Buffer.from(id).toString('hex')));
    const pickHonest = () => honest[Math.floor(world.random() * honest.length)];
    const lookups = Array.from({ length: LOOKUPS }, () => ({
      from: pickHonest(),
      target: seededId(world),
    }));
    const values = Array.from({ length: VALUES }, (_, v) => ({
      publisher: pickHonest(),
      reader: pickHonest(),
      key: `attack-value-${v}`,
      value: `value ${v} ${Math.floor(world.random() * 1e9)}`,
    }));

    const measure = async (secure: boolean): Promise<ModeFigures> => {
      const outcomes = await inBatches(lookups, (l) => l.from.lookup(l.target, { secure }), drive);
      let honestTop = 0;
      let closestHonest = 0;
      outcomes.forEach((outcome: LookupOutcome, i) => {
        const { from, target } = lookups[i];
        const got = outcome.closest.map((c) => c.id);
        const has = (id: NodeId) => got.some((g) => idEquals(g, id));
        const top = trueClosest(allIds, target, K, from.nodeId).filter((id) =>
          isHonest.has(Buffer.from(id).toString('hex')),
        );
        if (top.every(has)) honestTop++;
        if (has(trueClosest(honestIds, target, 1, from.nodeId)[0])) closestHonest++;
      });
      const mode = secure ? 'secure' : 'standard';
      await inBatches(values, (v) => v.publisher.store(`${mode}-${v.key}`, v.value, { secure }), drive);
      const read = await inBatches(values, (v) => v.reader.findValue(`${mode}-${v.key}`, { secure }), drive);
      const text = read.map((bytes) => (bytes ? new TextDecoder().decode(bytes) : null));
      return {
        paths: outcomes[0].paths.length,
        honestTop,
        closestHonest,
        medianRequests: median(outcomes.map((o) => o.requests)),
        valuesFound: text.filter((t, i) => t === values[i].value).length,
        forgedReturned: text.filter((t) => t?.startsWith('forged')).length,
      };
    };
    const cpu = () => Math.round(process.cpuUsage().user / 1e3);
    const t0 = cpu();
    const standard = await measure(false);
    const t1 = cpu();
    const secure = await measure(true);
    console.log(`cpu ms: standard ${t1 - t0}, secure ${cpu() - t1}`);

    const row = (name: string, f: ModeFigures) =>
      `${name}: honest top-${K} found ${percent(f.honestTop, LOOKUPS)}, closest honest found ${percent(f.closestHonest, LOOKUPS)}, ` +
      `median ${f.medianRequests} requests; values found ${percent(f.valuesFound, VALUES)}, forged values returned ${percent(f.forgedReturned, VALUES)}`;
    console.log(
      `20% malicious (${HONEST} honest + ${ADVERSARIES} adversaries; ${LOOKUPS} lookups, ${VALUES} values per mode):\n` +
        `  ${row('standard', standard)}\n  ${row('secure (4 paths)', secure)}\n` +
        `  STOREs swallowed by adversaries: ${adversaries.reduce((n, a) => n + a.swallowed, 0)}`,
    );

    // Secure mode really ran 4 disjoint paths (the node passes `paths` down to its lookups).
    expect(secure.paths).toBe(4);
    expect(standard.paths).toBe(1);
    expect(secure.honestTop / LOOKUPS).toBeGreaterThanOrEqual(0.99);
    expect(secure.valuesFound / VALUES).toBeGreaterThanOrEqual(0.99);
    expect(secure.forgedReturned).toBe(0);

    await drive(Promise.all([...honest.map((n) => n.stop()), ...adversaries.map((a) => a.stop())]));
    // Packets still in flight are delivered (to closed transports) within the network's latency.
    await world.clock.advance(100);
    expect(world.clock.pending()).toBe(0);
  });
});
