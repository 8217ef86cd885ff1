import { isKademliaError } from '../errors';
import { idToHex } from '../id/node-id';
import { RoutingTable } from './routing-table';
import { ContactFactory, FakeClock, hexOf, idFromBits } from './test/routing-fixtures';

describe('RoutingTable: observe and lookups by ID and address', () => {
  const localId = idFromBits('0000');
  let clock: FakeClock;
  let contacts: ContactFactory;
  let table: RoutingTable;

  beforeEach(() => {
    clock = new FakeClock();
    contacts = new ContactFactory();
    table = new RoutingTable({ localId, now: clock.now });
  });

  it('adds a new contact as a fresh entry with no failures', () => {
    const contact = contacts.contact(idFromBits('1'));
    const result = table.observe(contact);
    expect(result.outcome).toBe('added');
    expect(result.entry).toMatchObject({
      host: contact.host,
      port: contact.port,
      failures: 0,
      firstSeen: clock.time,
      lastSeen: clock.time,
    });
    expect(table.size()).toBe(1);
    expect(table.get(contact.id)).toBe(result.entry);
    expect(table.findByEndpoint(contact.host, contact.port)).toBe(result.entry);
  });

  it('never adds itself', () => {
    expect(table.observe(contacts.contact(localId)).outcome).toBe('ignored_self');
    expect(table.size()).toBe(0);
  });

  it('copies the contact bytes, so a reused packet buffer cannot change an entry', () => {
    const id = idFromBits('1');
    const contact = contacts.contact(id);
    table.observe(contact);
    id.fill(0xaa);
    expect(idToHex(table.get(idFromBits('1'))!.id)).toBe(idToHex(idFromBits('1')));
  });

  it('refreshes an entry seen again: lastSeen, failures, most-recent position', () => {
    const [a, b] = [contacts.contact(idFromBits('10')), contacts.contact(idFromBits('11'))];
    table.observe(a);
    table.observe(b);
    table.recordFailure(a.id);
    clock.advance(500);

    const result = table.observe(a);
    expect(result.outcome).toBe('updated');
    expect(result.entry).toMatchObject({ failures: 0, firstSeen: clock.time - 500, lastSeen: clock.time });
    expect(table.size()).toBe(2);
  });

  it('smooths RTT samples with an EWMA of gain 1/8', () => {
    const contact = contacts.contact(idFromBits('1'));
    table.observe(contact);
    expect(table.get(contact.id)!.rttMs).toBeUndefined();
    table.observe(contact, { rttMs: 80 });
    expect(table.get(contact.id)!.rttMs).toBe(80);
    table.observe(contact, { rttMs: 160 });
    expect(table.get(contact.id)!.rttMs).toBe(90);
    table.observe(contact, { rttMs: Number.NaN });
    table.observe(contact, { rttMs: -5 });
    table.observe(contact);
    expect(table.get(contact.id)!.rttMs).toBe(90);
  });

  it('lists live entries and removes them by ID', () => {
    const ids = ['1', '01', '001'].map((bits) => idFromBits(bits));
    for (const id of ids) table.observe(contacts.contact(id));
    expect(new Set(hexOf(table.entries()))).toEqual(new Set(ids.map(idToHex)));

    const removed = table.remove(ids[1]);
    expect(removed && idToHex(removed.id)).toBe(idToHex(ids[1]));
    expect(table.get(ids[1])).toBeUndefined();
    expect(table.findByEndpoint(removed!.host, removed!.port)).toBeUndefined();
    expect(table.remove(ids[1])).toBeUndefined();
    expect(table.size()).toBe(2);
  });

  it('rejects contacts whose ID is not 160 bits', () => {
    expect(() => table.observe({ ...contacts.contact(idFromBits('1')), id: new Uint8Array(19) })).toThrow(
      RangeError,
    );
  });

  it.each([
    { k: 0 },
    { k: 2.5 },
    { splitRelaxation: 0 },
    { replacementCacheSize: -1 },
    { maxFailures: 0 },
    { recentlySeenMs: Number.NaN },
  ])('rejects bad options %p with CONFIG_INVALID', (bad) => {
    let error: unknown;
    try {
      new RoutingTable({ localId, now: clock.now, ...bad });
    } catch (err) {
      error = err;
    }
    expect(isKademliaError(error, 'CONFIG_INVALID')).toBe(true);
  });

  it('rejects a local ID that is not 160 bits', () => {
    expect(() => new RoutingTable({ localId: new Uint8Array(8), now: clock.now })).toThrow(/20 bytes/);
  });
});
