import { idToHex, type NodeId } from '../id/node-id';
import { RoutingTable } from './routing-table';
import { ContactFactory, FakeClock, idFromBits } from './test/routing-fixtures';

describe('RoutingTable: failures and eviction', () => {
  const localId = idFromBits('');
  // With k = 2 and classic splitting, the far half '1' is one bucket that fills after two contacts.
  const [a, b, c, d] = ['100', '101', '110', '111'].map((bits) => idFromBits(bits));
  let clock: FakeClock;
  let contacts: ContactFactory;
  let table: RoutingTable;

  beforeEach(() => {
    clock = new FakeClock();
    contacts = new ContactFactory();
    table = new RoutingTable({ localId, now: clock.now, k: 2, splitRelaxation: 1 });
  });

  const observe = (...ids: NodeId[]) => ids.map((id) => table.observe(contacts.contact(id)).outcome);
  const hex = (entry: { id: NodeId } | undefined) => entry && idToHex(entry.id);

  it('keeps a contact after one failure and evicts it after two consecutive ones', () => {
    observe(a, b);
    expect(table.recordFailure(a)).toEqual({});
    expect(table.get(a)?.failures).toBe(1);
    const { evicted } = table.recordFailure(a);
    expect(hex(evicted)).toBe(idToHex(a));
    expect(table.get(a)).toBeUndefined();
    expect(table.size()).toBe(1);
  });

  it('counts only consecutive failures: proving itself in between resets the count', () => {
    observe(a);
    table.recordFailure(a);
    observe(a);
    expect(table.recordFailure(a)).toEqual({});
    expect(table.get(a)?.failures).toBe(1);
  });

  it('promotes the freshest replacement into the freed slot', () => {
    expect(observe(a, b, c)).toEqual(['added', 'added', 'cached']);
    clock.advance(10);
    expect(observe(d)).toEqual(['cached']);
    table.recordFailure(b);
    const { evicted, promoted } = table.recordFailure(b);
    expect([hex(evicted), hex(promoted)]).toEqual([idToHex(b), idToHex(d)]);
    expect(table.get(d)).toBe(promoted);
    expect(table.bucketInfo().find((info) => info.prefix === '1')).toMatchObject({
      size: 2,
      replacements: 1,
    });

    // The next eviction takes the remaining spare.
    table.recordFailure(a);
    expect(hex(table.recordFailure(a).promoted)).toBe(idToHex(c));
  });

  it('evicts at once with maxFailures = 1', () => {
    table = new RoutingTable({ localId, now: clock.now, maxFailures: 1 });
    observe(a);
    expect(hex(table.recordFailure(a).evicted)).toBe(idToHex(a));
  });

  it('ignores failures of unknown contacts', () => {
    expect(table.recordFailure(a)).toEqual({});
    expect(table.size()).toBe(0);
  });

  it('drops a replacement that keeps failing, so it is never promoted', () => {
    observe(a, b, c);
    table.recordFailure(c);
    table.recordFailure(c);
    expect(table.bucketInfo().find((info) => info.prefix === '1')?.replacements).toBe(0);
    table.recordFailure(a);
    const { evicted, promoted } = table.recordFailure(a);
    expect(hex(evicted)).toBe(idToHex(a));
    expect(promoted).toBeUndefined();
  });

  it('promotes on explicit removal too, and evict() reports which entry took the slot', () => {
    observe(a, b, c);
    expect(hex(table.remove(a))).toBe(idToHex(a));
    expect(table.get(c)).toBeDefined();
    observe(d);
    expect(hex(table.evict(b).promoted)).toBe(idToHex(d));
    const { evicted, promoted } = table.evict(c);
    expect(hex(evicted)).toBe(idToHex(c));
    expect(promoted).toBeUndefined();
    expect(table.size()).toBe(1);
  });

  it('forgets a cached contact on remove() without touching live entries', () => {
    observe(a, b, c);
    expect(table.remove(c)).toBeUndefined();
    expect(table.size()).toBe(2);
    expect(table.recordFailure(a)).toEqual({});
    expect(table.recordFailure(a).promoted).toBeUndefined();
  });
});
