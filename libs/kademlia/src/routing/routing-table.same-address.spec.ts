import { idToHex, type NodeId } from '../id/node-id';
import { RoutingTable } from './routing-table';
import { ContactFactory, FakeClock, idFromBits } from './test/routing-fixtures';

describe('RoutingTable: one entry per address (a new ID at a known address wins)', () => {
  const localId = idFromBits('');
  const [a, b, c] = ['100', '101', '110'].map((bits) => idFromBits(bits));
  const [near, nearToo] = ['01', '001'].map((bits) => idFromBits(bits));
  const shared = { host: '192.0.2.7', port: 6881 };
  let clock: FakeClock;
  let contacts: ContactFactory;
  let table: RoutingTable;

  beforeEach(() => {
    clock = new FakeClock();
    contacts = new ContactFactory();
    // k = 2, classic splitting: after three far contacts, bucket '1' holds two and caches one.
    table = new RoutingTable({ localId, now: clock.now, k: 2, splitRelaxation: 1 });
  });

  const hex = (entry: { id: NodeId } | undefined) => entry && idToHex(entry.id);

  it('replaces the entry when a different ID answers from its address (restart with a new identity)', () => {
    const old = table.observe(contacts.contact(a, shared)).entry;
    const result = table.observe(contacts.contact(near, shared));
    expect(result.outcome).toBe('replaced_same_address');
    expect(result.removed).toBe(old);
    expect(hex(result.entry)).toBe(idToHex(near));
    expect(table.get(a)).toBeUndefined();
    expect(table.findByEndpoint(shared.host, shared.port)).toBe(result.entry);
    expect(table.size()).toBe(1);
  });

  it('moves an existing ID to its new address and frees the old one', () => {
    const first = contacts.contact(a);
    table.observe(first);
    const result = table.observe(contacts.contact(a, shared));
    expect(result.outcome).toBe('updated');
    expect(result.entry).toMatchObject(shared);
    expect(table.findByEndpoint(first.host, first.port)).toBeUndefined();
    expect(table.findByEndpoint(shared.host, shared.port)).toBe(result.entry);
  });

  it('removes the other ID when a known ID moves onto its address', () => {
    table.observe(contacts.contact(a));
    table.observe(contacts.contact(near, shared));
    const result = table.observe(contacts.contact(a, shared));
    expect(result.outcome).toBe('replaced_same_address');
    expect(hex(result.removed)).toBe(idToHex(near));
    expect(hex(table.findByEndpoint(shared.host, shared.port))).toBe(idToHex(a));
    expect(table.size()).toBe(1);
  });

  it('lets the newcomer take the freed slot before any replacement', () => {
    table.observe(contacts.contact(a, shared));
    table.observe(contacts.contact(b));
    table.observe(contacts.contact(c));
    const newcomer = idFromBits('111');
    const result = table.observe(contacts.contact(newcomer, shared));
    expect(result.outcome).toBe('replaced_same_address');
    expect(result.promoted).toBeUndefined();
    expect(hex(result.entry)).toBe(idToHex(newcomer));
    expect(table.bucketInfo().find((info) => info.prefix === '1')).toMatchObject({
      size: 2,
      replacements: 1,
    });
  });

  it('fills the freed slot from the replacement cache when the newcomer lives elsewhere', () => {
    table.observe(contacts.contact(a, shared));
    table.observe(contacts.contact(b));
    table.observe(contacts.contact(c));
    const result = table.observe(contacts.contact(near, shared));
    expect(result.outcome).toBe('replaced_same_address');
    expect([hex(result.entry), hex(result.removed), hex(result.promoted)]).toEqual([near, a, c].map(idToHex));
    expect(table.size()).toBe(3);
  });

  it('still removes the old entry when the newcomer can only be cached', () => {
    table.observe(contacts.contact(a));
    table.observe(contacts.contact(b));
    table.observe(contacts.contact(near, shared));
    const result = table.observe(contacts.contact(c, shared));
    expect(result.outcome).toBe('replaced_same_address');
    expect(hex(result.removed)).toBe(idToHex(near));
    expect(result.entry).toBeUndefined();
    expect(table.findByEndpoint(shared.host, shared.port)).toBeUndefined();
    expect(table.get(near)).toBeUndefined();
  });

  it('silently drops a cached contact whose address a new ID now answers from', () => {
    table.observe(contacts.contact(a));
    table.observe(contacts.contact(b));
    table.observe(contacts.contact(c, shared));
    const result = table.observe(contacts.contact(nearToo, shared));
    expect(result.outcome).toBe('added');
    expect(table.bucketInfo().find((info) => info.prefix === '1')?.replacements).toBe(0);
  });

  it('treats the same ID at the same address as a plain update', () => {
    table.observe(contacts.contact(a, shared));
    expect(table.observe(contacts.contact(a, shared)).outcome).toBe('updated');
    expect(table.size()).toBe(1);
  });
});
