import fc from 'fast-check';
import { idEquals, idToHex, type NodeId } from '../id/node-id';
import { IpDiversityPolicy } from '../security/ip-diversity';
import { ipKeys } from '../security/ip-groups';
import { endpointKey } from '../transport/transport';
import { RoutingTable, type ObserveResult, type Eviction } from './routing-table';
import { arbAdversarialIds, arbLocalId, bitsOf, ContactFactory, FakeClock } from './test/routing-fixtures';

type Op =
  | { kind: 'observe'; id: number; address: number; rttMs?: number }
  | { kind: 'fail'; id: number }
  | { kind: 'evict'; id: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'touch'; id: number };

const arbOp = (ids: number, addresses: number): fc.Arbitrary<Op> => {
  const id = fc.integer({ min: 0, max: ids - 1 });
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('observe' as const),
        id,
        address: fc.integer({ min: 0, max: addresses - 1 }),
        rttMs: fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('fail' as const), id }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('evict' as const), id }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('advance' as const),
        ms: fc.integer({ min: 0, max: 120_000 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('touch' as const), id }) },
  );
};

interface TableConfig {
  localId: NodeId;
  k: number;
  splitRelaxation: number;
  replacementCacheSize: number;
  maxFailures: number;
}

const arbScenario = arbLocalId().chain((localId) =>
  fc
    .record({
      localId: fc.constant(localId),
      // The local ID itself is in the pool: observing it must change nothing.
      pool: arbAdversarialIds(localId, { minLength: 1, maxLength: 60 }).map((ids) => [...ids, localId]),
      addresses: fc.integer({ min: 1, max: 80 }),
      k: fc.constantFrom(1, 2, 3, 5),
      splitRelaxation: fc.constantFrom(1, 2, 5),
      replacementCacheSize: fc.constantFrom(0, 1, 3),
      maxFailures: fc.constantFrom(1, 2, 3),
    })
    .chain((s) =>
      fc.record({
        scenario: fc.constant(s),
        ops: fc.array(arbOp(s.pool.length, s.addresses), { maxLength: 150, size: 'max' }),
      }),
    ),
);

/**
 * Every structural promise of the table, checked from its public API only. Returns the broken ones
 * (one expect() per operation keeps thousands of runs fast).
 */
function brokenInvariants(table: RoutingTable, config: TableConfig): string[] {
  const broken: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) broken.push(what);
  };
  const buckets = table.bucketInfo();
  const entries = [...table.entries()];

  // The buckets partition the ID space: no prefix extends another, and their shares add up to 1.
  // (Sorted bit strings: a prefix of another string is directly followed by a string extending it.)
  const deepest = Math.max(...buckets.map((b) => b.depth));
  let share = 0n;
  for (const b of buckets) share += 1n << BigInt(deepest - b.depth);
  check(share === 1n << BigInt(deepest), 'bucket ranges do not add up to the whole ID space');
  const prefixes = buckets.map((b) => b.prefix).sort();
  for (let i = 1; i < prefixes.length; i++) {
    check(!prefixes[i].startsWith(prefixes[i - 1]), `bucket ${prefixes[i - 1]} overlaps ${prefixes[i]}`);
  }

  // The bucket holding our own ID exists, and we are never in our own table.
  const localBits = bitsOf(config.localId, 160);
  check(buckets.filter((b) => localBits.startsWith(b.prefix)).length === 1, 'no single bucket holds our ID');
  check(table.get(config.localId) === undefined, 'our own ID is in the table');

  // Bounded buckets; replacements only behind a full bucket that may not split.
  for (const b of buckets) {
    check(b.size <= config.k, `bucket ${b.prefix} holds more than k`);
    check(b.replacements <= config.replacementCacheSize, `bucket ${b.prefix} caches too many`);
    if (b.replacements > 0) {
      check(b.size === config.k, `bucket ${b.prefix} has replacements but free slots`);
      const splittable = localBits.startsWith(b.prefix) || b.depth % config.splitRelaxation !== 0;
      check(!splittable, `bucket ${b.prefix} has replacements but could split`);
    }
  }

  // Every entry lies in the range of the bucket that counts it.
  const counted = new Map<string, number>();
  for (const e of entries) {
    const bits = bitsOf(e.id, 160);
    const home = buckets.filter((b) => bits.startsWith(b.prefix));
    check(home.length === 1, `entry ${bits} is not in exactly one bucket`);
    if (home.length === 1) counted.set(home[0].prefix, (counted.get(home[0].prefix) ?? 0) + 1);
  }
  for (const b of buckets) check((counted.get(b.prefix) ?? 0) === b.size, `bucket ${b.prefix} miscounts`);

  // Indexes agree with the entries: by ID, by address (one entry per address), size().
  check(table.size() === entries.length, 'size() differs from entries()');
  check(new Set(entries.map((e) => endpointKey(e))).size === entries.length, 'two entries share an address');
  for (const e of entries) {
    check(table.get(e.id) === e, 'get() disagrees with entries()');
    check(table.findByEndpoint(e.host, e.port) === e, 'findByEndpoint() disagrees with entries()');
    check(e.failures < config.maxFailures, 'an entry outlived maxFailures');
  }
  return broken;
}

describe('RoutingTable invariants under random operation sequences', () => {
  it('keeps its structure, and exactly the entries its results reported, after every operation', () => {
    fc.assert(
      fc.property(arbScenario, ({ scenario, ops }) => {
        const clock = new FakeClock();
        const { localId, pool, k, splitRelaxation, replacementCacheSize, maxFailures } = scenario;
        const config = { localId, k, splitRelaxation, replacementCacheSize, maxFailures };
        const table = new RoutingTable({ ...config, now: clock.now });
        const contacts = new ContactFactory();
        const live = new Set<string>();
        const apply = (result: ObserveResult | Eviction) => {
          for (const gone of ['removed', 'evicted'] as const) {
            const entry = (result as Record<string, { id: NodeId } | undefined>)[gone];
            if (entry) live.delete(idToHex(entry.id));
          }
          for (const came of ['entry', 'promoted'] as const) {
            const entry = (result as Record<string, { id: NodeId } | undefined>)[came];
            if (entry) live.add(idToHex(entry.id));
          }
        };

        for (const op of ops) {
          if (op.kind === 'observe') {
            const id = pool[op.id];
            const address = { host: `10.0.${op.address >> 8}.${op.address & 0xff}`, port: 6881 };
            const result = table.observe(contacts.contact(id, address), { rttMs: op.rttMs });
            if (idEquals(id, localId)) expect(result.outcome).toBe('ignored_self');
            if (result.outcome === 'cached') expect(live.has(idToHex(id))).toBe(false);
            apply(result);
          } else if (op.kind === 'fail') {
            apply(table.recordFailure(pool[op.id]));
          } else if (op.kind === 'evict') {
            apply(table.evict(pool[op.id]));
          } else if (op.kind === 'advance') {
            clock.advance(op.ms);
          } else {
            table.touch(pool[op.id]);
          }
          expect(brokenInvariants(table, config)).toEqual([]);
          expect(new Set([...table.entries()].map((e) => idToHex(e.id)))).toEqual(live);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('holds every distinct ID inserted minus those removed while buckets never fill', () => {
    const arbSteps = arbLocalId().chain((localId) =>
      arbAdversarialIds(localId, { minLength: 1, maxLength: 80 }).chain((pool) =>
        fc.record({
          localId: fc.constant(localId),
          pool: fc.constant(pool),
          steps: fc.array(fc.record({ remove: fc.boolean(), index: fc.nat(pool.length - 1) }), {
            maxLength: 200,
            size: 'max',
          }),
        }),
      ),
    );
    fc.assert(
      fc.property(arbSteps, ({ localId, pool, steps }) => {
        const clock = new FakeClock();
        const table = new RoutingTable({ localId, now: clock.now, k: 1_000 });
        const contacts = new ContactFactory();
        const expected = new Set<string>();
        for (const { remove, index } of steps) {
          const id = pool[index];
          if (idEquals(id, localId)) continue;
          if (remove) {
            table.remove(id);
            expected.delete(idToHex(id));
          } else {
            table.observe(contacts.contact(id));
            expected.add(idToHex(id));
          }
          expect(table.size()).toBe(expected.size);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('RoutingTable invariants with an IP-diversity policy attached', () => {
  // Few groups and few hosts per group, so every limit is hit often: two IPv4 /24s, one IPv6 /48
  // (different /64s), one block that is allow-listed in some runs, and one IPv4-mapped alias.
  const hosts = [
    ...[1, 2, 3, 4, 5].map((h) => `10.0.0.${h}`),
    ...[1, 2, 3, 4].map((h) => `10.0.1.${h}`),
    ...[1, 2, 3, 4, 5].map((h) => `2001:db8:7:${h}::1`),
    ...[1, 2, 3, 4, 5].map((h) => `192.168.9.${h}`),
    '::ffff:10.0.0.1',
  ];
  // Three ports per host: another port of a known address is the per-IP limit's case.
  const endpointOf = (address: number) => ({ host: hosts[address % hosts.length], port: 6000 + address });

  const arbDiverseScenario = arbLocalId().chain((localId) =>
    fc
      .record({
        localId: fc.constant(localId),
        pool: arbAdversarialIds(localId, { minLength: 1, maxLength: 60 }),
        k: fc.constantFrom(1, 2, 3, 5),
        splitRelaxation: fc.constantFrom(1, 2, 5),
        replacementCacheSize: fc.constantFrom(0, 1, 3),
        maxFailures: fc.constantFrom(1, 2, 3),
        perBucketPerGroup: fc.constantFrom(1, 2),
        perTablePerGroup: fc.constantFrom(1, 3, 5),
        perTablePerIp: fc.constantFrom(1, 2),
        allowList: fc.constantFrom([], ['192.168.0.0/16']),
      })
      .chain((s) =>
        fc.record({
          scenario: fc.constant(s),
          ops: fc.array(arbOp(s.pool.length, hosts.length * 3), { maxLength: 150, size: 'max' }),
        }),
      ),
  );

  /** The policy's counts against a recount of the live entries, and every limit against the entries. */
  function brokenDiversity(table: RoutingTable, policy: IpDiversityPolicy): string[] {
    const broken: string[] = [];
    const ipCounts = new Map<string, number>();
    const groupCounts = new Map<string, number>();
    const perBucket = new Map<string, number>();
    const prefixes = table.bucketInfo().map((b) => b.prefix);
    for (const entry of table.entries()) {
      if (policy.isExempt(entry.host)) continue;
      const keys = ipKeys(entry.host)!;
      ipCounts.set(keys.ip, (ipCounts.get(keys.ip) ?? 0) + 1);
      groupCounts.set(keys.group, (groupCounts.get(keys.group) ?? 0) + 1);
      const bits = bitsOf(entry.id, 160);
      const bucketGroup = `${prefixes.find((p) => bits.startsWith(p))} ${keys.group}`;
      perBucket.set(bucketGroup, (perBucket.get(bucketGroup) ?? 0) + 1);
    }
    for (const host of hosts) {
      const keys = ipKeys(host)!;
      const exempt = policy.isExempt(host);
      if (policy.ipCount(host) !== (exempt ? 0 : (ipCounts.get(keys.ip) ?? 0)))
        broken.push(`ip count of ${host}`);
      if (policy.groupCount(host) !== (exempt ? 0 : (groupCounts.get(keys.group) ?? 0))) {
        broken.push(`group count of ${host}`);
      }
    }
    const stats = table.ipDiversityStats()!;
    if (stats.trackedIps !== ipCounts.size) broken.push('tracked IPs differ from a recount');
    if (stats.trackedGroups !== groupCounts.size) broken.push('tracked groups differ from a recount');
    for (const [ip, n] of ipCounts) if (n > policy.perTablePerIp) broken.push(`${n} entries at ${ip}`);
    for (const [group, n] of groupCounts)
      if (n > policy.perTablePerGroup) broken.push(`${n} entries of ${group}`);
    for (const [where, n] of perBucket)
      if (n > policy.perBucketPerGroup) broken.push(`${n} entries in ${where}`);
    return broken;
  }

  it('keeps its structure, counts exactly its live entries, and never exceeds a limit (promotions included)', () => {
    fc.assert(
      fc.property(arbDiverseScenario, ({ scenario, ops }) => {
        const clock = new FakeClock();
        const { localId, pool, k, splitRelaxation, replacementCacheSize, maxFailures } = scenario;
        const config = { localId, k, splitRelaxation, replacementCacheSize, maxFailures };
        const policy = new IpDiversityPolicy(scenario);
        const table = new RoutingTable({ ...config, now: clock.now, ipDiversity: policy });
        const contacts = new ContactFactory();
        const live = new Set<string>();
        const apply = (result: ObserveResult | Eviction) => {
          for (const gone of ['removed', 'evicted'] as const) {
            const entry = (result as Record<string, { id: NodeId } | undefined>)[gone];
            if (entry) live.delete(idToHex(entry.id));
          }
          for (const came of ['entry', 'promoted'] as const) {
            const entry = (result as Record<string, { id: NodeId } | undefined>)[came];
            if (entry) live.add(idToHex(entry.id));
          }
        };

        for (const op of ops) {
          if (op.kind === 'observe') {
            const id = pool[op.id];
            const before = table.get(id);
            const oldHost = before?.host;
            const result = table.observe(contacts.contact(id, endpointOf(op.address)));
            if (result.outcome === 'refused_ip_diversity') {
              expect(result.reason).toBeDefined();
              expect(result.entry).toBeUndefined();
              // A refused newcomer is nowhere; a refused move leaves the entry where it was.
              expect(table.get(id)?.host).toBe(oldHost);
            }
            apply(result);
          } else if (op.kind === 'fail') {
            apply(table.recordFailure(pool[op.id]));
          } else if (op.kind === 'evict') {
            apply(table.evict(pool[op.id]));
          } else if (op.kind === 'advance') {
            clock.advance(op.ms);
          } else {
            table.touch(pool[op.id]);
          }
          expect(brokenInvariants(table, config)).toEqual([]);
          expect(brokenDiversity(table, policy)).toEqual([]);
          expect(new Set([...table.entries()].map((e) => idToHex(e.id)))).toEqual(live);
        }
      }),
      { numRuns: 100 },
    );
  });
});
