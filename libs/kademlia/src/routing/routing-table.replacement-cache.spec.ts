import { idToHex, type NodeId } from '../id/node-id';
import { RoutingTable } from './routing-table';
import { ContactFactory, FakeClock, hexOf, idFromBits } from './test/routing-fixtures';

describe('RoutingTable: replacement cache and ping candidates', () => {
  const localId = idFromBits('');
  // With k = 2 and classic splitting, the far half '1' is one bucket that fills after two contacts.
  const [a, b, c, d, e] = ['1000', '1001', '1010', '1011', '1100'].map((bits) => idFromBits(bits));
  const recentlySeenMs = 60_000;
  let clock: FakeClock;
  let contacts: ContactFactory;
  let table: RoutingTable;

  beforeEach(() => {
    clock = new FakeClock();
    contacts = new ContactFactory();
    table = new RoutingTable({
      localId,
      now: clock.now,
      k: 2,
      splitRelaxation: 1,
      replacementCacheSize: 2,
      recentlySeenMs,
    });
  });

  const observe = (id: NodeId) => table.observe(contacts.contact(id));
  const farBucket = () => table.bucketInfo().find((info) => info.prefix === '1')!;
  const promotedBy = (id: NodeId) => {
    table.recordFailure(id);
    const promoted = table.recordFailure(id).promoted;
    return promoted && idToHex(promoted.id);
  };

  it('caches a contact whose bucket is full and cannot split, and never hands it out', () => {
    observe(a);
    observe(b);
    const result = observe(c);
    expect(result).toEqual({ outcome: 'cached' });
    expect(table.get(c)).toBeUndefined();
    expect(table.size()).toBe(2);
    expect(hexOf(table.closest(c, 10))).not.toContain(idToHex(c));
    const { host, port } = contacts.contact(c);
    expect(table.findByEndpoint(host, port)).toBeUndefined();
    expect(farBucket()).toMatchObject({ size: 2, replacements: 1 });
  });

  it('asks for a ping of the least recently seen entry only once it is stale', () => {
    observe(a);
    clock.advance(1_000);
    observe(b);
    clock.advance(recentlySeenMs - 1_001);
    expect(observe(c).pingCandidate).toBeUndefined();

    clock.advance(1);
    expect(idToHex(observe(d).pingCandidate!.id)).toBe(idToHex(a));

    // The candidate answers the node's ping: it moves to the fresh end, and b becomes the stale one.
    expect(observe(a).outcome).toBe('updated');
    clock.advance(1_000);
    expect(idToHex(observe(e).pingCandidate!.id)).toBe(idToHex(b));
  });

  it('keeps the most recent replacements, bounded, and promotes the freshest first', () => {
    observe(a);
    observe(b);
    for (const id of [c, d, e]) {
      clock.advance(1);
      observe(id);
    }
    expect(farBucket().replacements).toBe(2);
    expect([promotedBy(a), promotedBy(b)]).toEqual([idToHex(e), idToHex(d)]);
    expect(farBucket()).toMatchObject({ size: 2, replacements: 0 });
    // c was pushed out of the cache by the bound.
    table.recordFailure(e);
    expect(table.recordFailure(e).promoted).toBeUndefined();
  });

  it('holds one slot per ID: seeing a cached contact again makes it the freshest', () => {
    observe(a);
    observe(b);
    observe(c);
    clock.advance(1);
    observe(d);
    clock.advance(1);
    expect(observe(c).outcome).toBe('cached');
    expect(farBucket().replacements).toBe(2);
    expect(promotedBy(a)).toBe(idToHex(c));
  });

  it('keeps what it learned about a replacement when promoting it', () => {
    const start = clock.time;
    observe(a);
    observe(b);
    table.observe(contacts.contact(c), { rttMs: 40 });
    clock.advance(5_000);
    table.observe(contacts.contact(c), { rttMs: 120 });
    promotedBy(a);
    expect(table.get(c)).toMatchObject({ firstSeen: start, lastSeen: start + 5_000, rttMs: 50, failures: 0 });
  });

  it('puts a promoted replacement at its place in last-seen order', () => {
    observe(a);
    observe(c);
    clock.advance(10);
    observe(d); // the far bucket holds a and c; d is cached, last seen at +10 ms
    clock.advance(recentlySeenMs);
    observe(c); // c is seen again at +60.01 s
    promotedBy(a); // d takes a's slot, and is older than c: it is now the least recently seen
    expect(idToHex(observe(e).pingCandidate!.id)).toBe(idToHex(d));
  });

  it('caches nothing with replacementCacheSize = 0', () => {
    table = new RoutingTable({ localId, now: clock.now, k: 2, splitRelaxation: 1, replacementCacheSize: 0 });
    observe(a);
    observe(b);
    expect(observe(c).outcome).toBe('cached');
    expect(farBucket().replacements).toBe(0);
    expect(promotedBy(a)).toBeUndefined();
  });
});
