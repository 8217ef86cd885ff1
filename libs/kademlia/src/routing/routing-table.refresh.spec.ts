import { RoutingTable } from './routing-table';
import { bitsOf, ContactFactory, FakeClock, idFromBits } from './test/routing-fixtures';

describe('RoutingTable: maintenance (refresh targets for idle buckets, revalidation)', () => {
  const localId = idFromBits('');
  const hour = 60 * 60_000;
  let clock: FakeClock;
  let contacts: ContactFactory;
  let table: RoutingTable;

  beforeEach(() => {
    clock = new FakeClock();
    contacts = new ContactFactory();
    table = new RoutingTable({ localId, now: clock.now, k: 2, splitRelaxation: 1 });
    // Buckets '1', '01', '001', '000' after these splits.
    for (const bits of ['1', '11', '01', '011', '001', '0011', '0001'])
      table.observe(contacts.contact(idFromBits(bits)));
  });

  /** The prefix of the bucket each target falls in. */
  const bucketsOf = (targets: Uint8Array[]) =>
    targets
      .map((target) => table.bucketInfo().find((b) => bitsOf(target, b.depth) === b.prefix)!.prefix)
      .sort();

  it('has nothing to refresh while every bucket is fresh', () => {
    expect(table.bucketInfo().map((b) => b.prefix)).toEqual(['000', '001', '01', '1']);
    clock.advance(hour - 1);
    expect(table.refreshTargets(hour)).toEqual([]);
  });

  it('returns one random target inside each idle bucket', () => {
    clock.advance(hour);
    for (let round = 0; round < 5; round++) {
      expect(bucketsOf(table.refreshTargets(hour))).toEqual(['000', '001', '01', '1']);
    }
  });

  it('leaves out a bucket that a lookup touched', () => {
    clock.advance(hour);
    table.touch(idFromBits('0101'));
    expect(bucketsOf(table.refreshTargets(hour))).toEqual(['000', '001', '1']);
    expect(table.bucketInfo().find((b) => b.prefix === '01')?.lastTouched).toBe(clock.time);
  });

  it('leaves out a bucket that changed', () => {
    clock.advance(hour);
    table.observe(contacts.contact(idFromBits('1'))); // seen again
    table.recordFailure(idFromBits('001'));
    table.recordFailure(idFromBits('001')); // evicted
    expect(bucketsOf(table.refreshTargets(hour))).toEqual(['000', '01']);
    expect(table.bucketInfo().find((b) => b.prefix === '1')?.lastChanged).toBe(clock.time);
  });

  it('changes nothing itself: idle buckets stay idle until the node runs and touches their lookups', () => {
    clock.advance(hour);
    const first = table.refreshTargets(hour);
    expect(table.refreshTargets(hour)).toHaveLength(first.length);
    for (const target of first) table.touch(target);
    expect(table.refreshTargets(hour)).toEqual([]);
  });

  it('treats every bucket as idle with maxIdleMs = 0', () => {
    expect(table.refreshTargets(0)).toHaveLength(table.bucketInfo().length);
  });

  it('names the stalest live entry for revalidation', () => {
    clock.advance(1_000);
    for (const bits of ['1', '11', '01', '011', '001', '0011'])
      table.observe(contacts.contact(idFromBits(bits)));
    expect(bitsOf(table.stalest()!.id, 4)).toBe('0001');
    expect(new RoutingTable({ localId, now: clock.now }).stalest()).toBeUndefined();
  });
});
