import { randomId } from '../id/node-id';
import { RoutingTable } from './routing-table';
import { ContactFactory, FakeClock, idAtPrefixLength, idFromBits } from './test/routing-fixtures';

describe('RoutingTable: bucket splitting', () => {
  const localId = idFromBits('');
  let clock: FakeClock;
  let contacts: ContactFactory;

  beforeEach(() => {
    clock = new FakeClock();
    contacts = new ContactFactory();
  });

  const layout = (table: RoutingTable) =>
    table.bucketInfo().map((b) => `${b.prefix}:${b.size}/${b.replacements}`);

  it('starts as one bucket spanning the whole ID space', () => {
    const table = new RoutingTable({ localId, now: clock.now });
    expect(table.bucketInfo()).toEqual([
      { depth: 0, prefix: '', size: 0, replacements: 0, lastChanged: clock.time, lastTouched: clock.time },
    ]);
  });

  it('splits the bucket holding our own ID whenever it is full, and only that one (b = 1)', () => {
    const table = new RoutingTable({ localId, now: clock.now, k: 2, splitRelaxation: 1 });
    const far = [0, 1, 2].map((i) => idAtPrefixLength(localId, 0, new Uint8Array([i << 6])));
    const near = [0, 1, 2].map((i) => idAtPrefixLength(localId, 4, new Uint8Array([i << 6])));
    expect([...far, ...near].map((id) => table.observe(contacts.contact(id)).outcome)).toEqual([
      'added',
      'added',
      'cached',
      'added',
      'added',
      'cached',
    ]);
    expect(layout(table)).toEqual(['00000:0/0', '00001:2/1', '0001:0/0', '001:0/0', '01:0/0', '1:2/1']);
  });

  it('also splits far buckets while depth % b != 0 (relaxed splitting, paper §4.2)', () => {
    const table = new RoutingTable({ localId, now: clock.now, k: 2, splitRelaxation: 2 });
    for (const bits of ['100', '101', '110']) table.observe(contacts.contact(idFromBits(bits)));
    // '1' (depth 1) split into '10' and '11'; '10' at depth 2 is full and may not split again.
    expect(layout(table)).toEqual(['0:0/0', '10:2/0', '11:1/0']);
    expect(table.observe(contacts.contact(idFromBits('1001'))).outcome).toBe('cached');
    expect(layout(table)).toEqual(['0:0/0', '10:2/1', '11:1/0']);
  });

  it('splits repeatedly when every entry lands on one side', () => {
    const table = new RoutingTable({ localId, now: clock.now, k: 2 });
    table.observe(contacts.contact(idFromBits('0000001', 0)));
    table.observe(contacts.contact(idFromBits('0000001', 1)));
    expect(table.observe(contacts.contact(idFromBits('1'))).outcome).toBe('added');
    expect(table.observe(contacts.contact(idFromBits('00000001'))).outcome).toBe('added');
    expect(table.size()).toBe(4);
    expect(Math.max(...table.bucketInfo().map((b) => b.depth))).toBe(7);
  });

  it('goes all the way down to single-ID buckets next to our own ID', () => {
    const table = new RoutingTable({ localId, now: clock.now, k: 1 });
    const neighbours = [
      idAtPrefixLength(localId, 159),
      idAtPrefixLength(localId, 158, new Uint8Array([0])),
      idAtPrefixLength(localId, 158, new Uint8Array([0xff])),
    ];
    for (const id of neighbours) expect(table.observe(contacts.contact(id)).outcome).toBe('added');
    const depths = table.bucketInfo().map((b) => b.depth);
    expect(Math.max(...depths)).toBe(160);
    expect(table.size()).toBe(3);
  });

  it('loses no contact while splitting: every one is live or, when its bucket cannot split, cached', () => {
    const table = new RoutingTable({ localId: randomId(), now: clock.now, k: 4, replacementCacheSize: 1000 });
    const outcomes = { added: 0, cached: 0 } as Record<string, number>;
    for (let i = 0; i < 500; i++) outcomes[table.observe(contacts.contact(randomId())).outcome]++;
    const info = table.bucketInfo();
    expect(outcomes.added + outcomes.cached).toBe(500);
    expect(table.size()).toBe(outcomes.added);
    expect(info.reduce((sum, b) => sum + b.size, 0)).toBe(outcomes.added);
    expect(info.reduce((sum, b) => sum + b.replacements, 0)).toBe(outcomes.cached);
  });
});
