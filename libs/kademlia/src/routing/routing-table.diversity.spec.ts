import { createHash } from 'node:crypto';
import { idToHex, type NodeId } from '../id/node-id';
import { IpDiversityPolicy, type IpDiversityOptions } from '../security/ip-diversity';
import type { Contact } from './contact';
import { RoutingTable, type RoutingEntry } from './routing-table';
import { bitsOf, fakePublicKey, FakeClock, idAtPrefixLength, idFromBits } from './test/routing-fixtures';

/** Deterministic IDs: the same swarm every run, spread like real (hashed) IDs. */
const hashId = (label: string): NodeId => new Uint8Array(createHash('sha1').update(label).digest());
const at = (id: NodeId, host: string, port = 6881): Contact => ({
  id,
  publicKey: fakePublicKey(id),
  host,
  port,
});
const hex = (entry: { id: NodeId } | undefined) => entry && idToHex(entry.id);

/** Live entries grouped by the bucket that holds them (bucket prefix → entries). */
function liveByBucket(table: RoutingTable): Map<string, RoutingEntry[]> {
  const prefixes = table.bucketInfo().map((b) => b.prefix);
  const byBucket = new Map<string, RoutingEntry[]>(prefixes.map((p) => [p, []]));
  for (const entry of table.entries()) {
    const bits = bitsOf(entry.id, 160);
    byBucket.get(prefixes.find((p) => bits.startsWith(p))!)!.push(entry);
  }
  return byBucket;
}

const maxPerBucket = (table: RoutingTable, keep: (e: RoutingEntry) => boolean) =>
  Math.max(0, ...[...liveByBucket(table).values()].map((entries) => entries.filter(keep).length));

describe('RoutingTable with an IP-diversity policy: a Sybil swarm from one /24', () => {
  const localId = hashId('local');
  const sybilHost = (i: number) => `203.0.113.${(i % 254) + 1}`;
  const isSybil = (e: { host: string }) => e.host.startsWith('203.0.113.');
  // Half of the swarm sits right next to our ID (an eclipse attempt), half anywhere.
  const sybils = Array.from({ length: 1_000 }, (_, i) => {
    const id =
      i % 2 === 0
        ? hashId(`sybil-${i}`)
        : idAtPrefixLength(localId, 8 + (i % 120), hashId(`sybil-tail-${i}`).subarray(0, 4));
    return at(id, sybilHost(i), 10_000 + i);
  });
  // Honest peers: each in its own /24.
  const honest = Array.from({ length: 400 }, (_, i) =>
    at(hashId(`honest-${i}`), `${100 + (i >> 8)}.${i & 0xff}.${(i * 7) & 0xff}.9`),
  );

  /** 200 honest peers first, then the swarm with the other 200 honest peers mixed in. */
  function offerAll(table: RoutingTable) {
    const outcomes = { honestRefused: 0, sybilRefused: 0 };
    const offer = (contact: Contact) => {
      const { outcome } = table.observe(contact);
      if (outcome === 'refused_ip_diversity') outcomes[isSybil(contact) ? 'sybilRefused' : 'honestRefused']++;
    };
    honest.slice(0, 200).forEach(offer);
    sybils.forEach((sybil, i) => {
      offer(sybil);
      if (i % 5 === 4) offer(honest[200 + (i - 4) / 5]);
    });
    return outcomes;
  }

  it('keeps at most 10 of the swarm in the table and at most 2 in any bucket', () => {
    const clock = new FakeClock();
    const table = new RoutingTable({ localId, now: clock.now, ipDiversity: new IpDiversityPolicy() });
    const { sybilRefused } = offerAll(table);

    const admitted = [...table.entries()].filter(isSybil);
    expect(admitted.length).toBeGreaterThan(0);
    expect(admitted.length).toBeLessThanOrEqual(10);
    expect(maxPerBucket(table, isSybil)).toBeLessThanOrEqual(2);
    expect(sybilRefused).toBeGreaterThanOrEqual(900);
    const stats = table.ipDiversityStats()!;
    const refusedTotal = Object.values(stats.refused).reduce((sum, n) => sum + n, 0);
    expect(refusedTotal).toBe(sybilRefused);
    expect(stats.refused.table_group_limit + stats.refused.bucket_group_limit).toBeGreaterThan(0);
  });

  it('cannot surround our own ID: without the policy the swarm owns our 20 closest, with it at most 10', () => {
    const unprotected = new RoutingTable({ localId, now: new FakeClock().now });
    offerAll(unprotected);
    expect(unprotected.closest(localId, 20).filter(isSybil)).toHaveLength(20);

    const table = new RoutingTable({
      localId,
      now: new FakeClock().now,
      ipDiversity: new IpDiversityPolicy(),
    });
    offerAll(table);
    const closest = table.closest(localId, 20);
    expect(closest).toHaveLength(20);
    expect(closest.filter(isSybil).length).toBeLessThanOrEqual(10);
  });

  it('still admits honest peers from distinct /24s: none refused, nearly all the slots a swarm-free table gives', () => {
    const baseline = new RoutingTable({ localId, now: new FakeClock().now });
    honest.forEach((contact) => baseline.observe(contact));

    const table = new RoutingTable({
      localId,
      now: new FakeClock().now,
      ipDiversity: new IpDiversityPolicy(),
    });
    const { honestRefused } = offerAll(table);
    expect(honestRefused).toBe(0);
    const honestLive = [...table.entries()].filter((e) => !isSybil(e)).length;
    expect(honestLive).toBeGreaterThanOrEqual(baseline.size() - 10);
  });
});

describe('RoutingTable with an IP-diversity policy: refusals', () => {
  // localId 000…; with k = 2 and classic splitting the far half '1' is a bucket that never splits.
  const localId = idFromBits('');
  let clock: FakeClock;

  beforeEach(() => {
    clock = new FakeClock();
  });

  const smallTable = (policy: IpDiversityOptions = {}, replacementCacheSize = 3) =>
    new RoutingTable({
      localId,
      now: clock.now,
      k: 2,
      splitRelaxation: 1,
      replacementCacheSize,
      ipDiversity: new IpDiversityPolicy(policy),
    });
  const farBucket = (table: RoutingTable) => table.bucketInfo().find((b) => b.prefix === '1')!;

  it('refuses a third /24 neighbour of a bucket outright: no cache slot, no ping of the entries', () => {
    const table = smallTable();
    expect(table.observe(at(idFromBits('100'), '1.1.1.1')).outcome).toBe('added');
    expect(table.observe(at(idFromBits('101'), '1.1.1.2')).outcome).toBe('added');
    clock.advance(10 * 60_000); // the live entries are stale: a cached newcomer would trigger a ping
    expect(table.observe(at(idFromBits('110'), '1.1.1.3'))).toEqual({
      outcome: 'refused_ip_diversity',
      reason: 'bucket_group_limit',
    });
    expect(farBucket(table).replacements).toBe(0);
    const diverse = table.observe(at(idFromBits('111'), '2.2.2.2'));
    expect(diverse.outcome).toBe('cached');
    expect(diverse.pingCandidate).toBeDefined();
  });

  it('caches at most perBucketPerGroup spares of one /24, so one group cannot flush the cache', () => {
    const table = smallTable({}, 5);
    table.observe(at(idFromBits('100'), '1.1.1.1'));
    table.observe(at(idFromBits('101'), '2.2.2.1'));
    const outcomes = ['1100', '1101', '1110', '1111'].map(
      (bits, i) => table.observe(at(idFromBits(bits), `3.3.3.${i + 1}`)).outcome,
    );
    expect(outcomes).toEqual(['cached', 'cached', 'refused_ip_diversity', 'refused_ip_diversity']);
    expect(farBucket(table).replacements).toBe(2);
    // A spare seen again keeps its own slot: it replaces itself, it does not count twice.
    expect(table.observe(at(idFromBits('1100'), '3.3.3.1')).outcome).toBe('cached');
  });

  it('refuses on whole-table limits before splitting anything', () => {
    const plain = new RoutingTable({ localId, now: clock.now, k: 2, splitRelaxation: 1 });
    const table = smallTable({ perTablePerGroup: 2 });
    for (const t of [plain, table]) {
      t.observe(at(idFromBits('1'), '5.5.5.1'));
      t.observe(at(idFromBits('01'), '5.5.5.2'));
    }
    const sybil = at(idFromBits('001'), '5.5.5.3');
    expect(plain.observe(sybil).outcome).toBe('added');
    expect(plain.bucketInfo().length).toBeGreaterThan(1);
    expect(table.observe(sybil)).toEqual({ outcome: 'refused_ip_diversity', reason: 'table_group_limit' });
    expect(table.bucketInfo().map((b) => b.prefix)).toEqual(['']);
  });

  it('does not promote a spare its group no longer admits; the next spare takes the slot', () => {
    const table = smallTable({ perTablePerGroup: 2 });
    const [a, b, spareOk, spareSybil] = ['100', '101', '110', '111'].map((bits) => idFromBits(bits));
    table.observe(at(a, '1.0.0.1'));
    table.observe(at(b, '2.0.0.1'));
    expect(table.observe(at(spareOk, '4.0.0.1')).outcome).toBe('cached');
    clock.advance(10);
    expect(table.observe(at(spareSybil, '3.0.0.1')).outcome).toBe('cached'); // the freshest spare
    // Meanwhile its /24 fills its table quota elsewhere.
    expect(table.observe(at(idFromBits('01'), '3.0.0.2')).outcome).toBe('added');
    expect(table.observe(at(idFromBits('001'), '3.0.0.3')).outcome).toBe('added');

    const { evicted, promoted } = table.evict(a);
    expect([hex(evicted), hex(promoted)]).toEqual([idToHex(a), idToHex(spareOk)]);
    expect(table.get(spareSybil)).toBeUndefined();
    expect(farBucket(table)).toMatchObject({ size: 2, replacements: 0 });
    expect(table.ipDiversityStats()).toMatchObject({
      refusedPromotions: 1,
      refused: { table_group_limit: 1 },
    });
  });

  it('keeps a live entry at its old address when the new one is refused, and moves its count when allowed', () => {
    const policy = new IpDiversityPolicy();
    const table = new RoutingTable({ localId, now: clock.now, ipDiversity: policy });
    const mover = idFromBits('1');
    table.observe(at(mover, '1.1.1.1'));
    table.observe(at(idFromBits('11'), '7.7.7.1'));
    table.observe(at(idFromBits('111'), '7.7.7.2'));
    const seenAt = clock.time;
    clock.advance(1_000);

    expect(table.observe(at(mover, '7.7.7.3'))).toEqual({
      outcome: 'refused_ip_diversity',
      reason: 'bucket_group_limit',
    });
    expect(table.get(mover)).toMatchObject({ host: '1.1.1.1', lastSeen: seenAt });
    expect(table.findByEndpoint('7.7.7.3', 6881)).toBeUndefined();
    expect(table.ipDiversityStats()?.refusedMoves).toBe(1);

    // Within its own /24 the move is no second entry; elsewhere the count follows it.
    expect(table.observe(at(mover, '1.1.1.9')).outcome).toBe('updated');
    expect([policy.ipCount('1.1.1.1'), policy.ipCount('1.1.1.9'), policy.groupCount('1.1.1.0')]).toEqual([
      0, 1, 1,
    ]);
    expect(table.observe(at(mover, '8.8.8.8')).outcome).toBe('updated');
    expect([policy.groupCount('1.1.1.0'), policy.groupCount('8.8.8.0')]).toEqual([0, 1]);
  });

  it('lets a new ID take over an address (the old count leaves first) but not a second port of it', () => {
    const policy = new IpDiversityPolicy();
    const table = new RoutingTable({ localId, now: clock.now, ipDiversity: policy });
    table.observe(at(idFromBits('1'), '9.9.9.9'));
    const restarted = table.observe(at(idFromBits('01'), '9.9.9.9'));
    expect(restarted.outcome).toBe('replaced_same_address');
    expect(policy.ipCount('9.9.9.9')).toBe(1);
    expect(table.observe(at(idFromBits('001'), '9.9.9.9', 7000))).toEqual({
      outcome: 'refused_ip_diversity',
      reason: 'ip_limit',
    });
    // Its IPv4-mapped IPv6 spelling is the same machine.
    expect(table.observe(at(idFromBits('0001'), '::ffff:9.9.9.9')).reason).toBe('ip_limit');
  });

  it('refuses a host that is not an IP literal only when a policy is attached', () => {
    const named = at(idFromBits('1'), 'node.example');
    expect(new RoutingTable({ localId, now: clock.now }).observe(named).outcome).toBe('added');
    expect(smallTable().observe(named)).toEqual({ outcome: 'refused_ip_diversity', reason: 'invalid_host' });
  });

  it('has no diversity stats without a policy, and starts a reused policy from zero', () => {
    expect(new RoutingTable({ localId, now: clock.now }).ipDiversityStats()).toBeUndefined();
    const policy = new IpDiversityPolicy();
    for (let i = 1; i <= 10; i++) policy.onAdded({ host: `4.4.4.${i}` });
    const table = new RoutingTable({ localId, now: clock.now, ipDiversity: policy });
    expect(table.observe(at(idFromBits('1'), '4.4.4.11')).outcome).toBe('added');
    expect(table.ipDiversityStats()).toMatchObject({ trackedIps: 1, trackedGroups: 1, refusedMoves: 0 });
  });
});

describe('RoutingTable with an IP-diversity policy: groups and the allow-list', () => {
  const localId = hashId('local');
  const clock = new FakeClock();
  const nearId = (cpl: number, label: string) => idAtPrefixLength(localId, cpl, hashId(`${label}-${cpl}`));

  /**
   * A table split as deep as a real one near our ID: two honest neighbours (each in its own /24) at
   * every distance up to 60 bits. A newcomer at any of those distances then finds a bucket with room,
   * so only the policy can turn it away.
   */
  function tableWithNeighbours(policy: IpDiversityPolicy): RoutingTable {
    const table = new RoutingTable({ localId, now: clock.now, ipDiversity: policy });
    for (let cpl = 0; cpl < 60; cpl++) {
      for (const side of [0, 1]) table.observe(at(nearId(cpl, `honest${side}`), `30.${cpl}.${side}.1`));
    }
    expect(table.size()).toBe(120);
    return table;
  }
  /** Offers one contact at each distance 0..59, host chosen by distance; how many became live. */
  const admitted = (table: RoutingTable, host: (cpl: number) => string) =>
    Array.from({ length: 60 }, (_, cpl) => table.observe(at(nearId(cpl, 'group'), host(cpl)))).filter(
      (r) => r.outcome === 'added',
    ).length;

  it('lets an allow-listed /16 (our own fleet) in without limits, and limits the rest', () => {
    const policy = new IpDiversityPolicy({ allowList: ['198.51.0.0/16'] });
    const fleet = tableWithNeighbours(policy);
    expect(admitted(fleet, (cpl) => `198.51.100.${cpl + 1}`)).toBe(60);
    expect(policy.groupCount('198.51.100.1')).toBe(0);

    const outsider = tableWithNeighbours(new IpDiversityPolicy({ allowList: ['198.51.0.0/16'] }));
    expect(admitted(outsider, (cpl) => `198.52.100.${cpl + 1}`)).toBe(10);
  });

  it('groups IPv6 by /48: one site is one group, distinct sites are not limited', () => {
    const site = tableWithNeighbours(new IpDiversityPolicy());
    expect(admitted(site, (cpl) => `2001:db8:aa:${cpl.toString(16)}::1`)).toBe(10);
    expect(maxPerBucket(site, (e) => e.host.startsWith('2001:db8:aa:'))).toBeLessThanOrEqual(2);

    const sites = tableWithNeighbours(new IpDiversityPolicy());
    expect(admitted(sites, (cpl) => `2001:db8:${(cpl + 1).toString(16)}::1`)).toBe(60);
  });
});
