import { ipToBytes } from '../wire/ip-address';
import { ContactBuffer } from './contact-buffer';
import { ContactMaker, FakeTime } from './test/buffer-fixtures';

function setup(options: Partial<ConstructorParameters<typeof ContactBuffer>[0]> = {}) {
  const time = new FakeTime();
  const buffer = new ContactBuffer({ now: time.now, capacity: 100, stagingSize: 16, seed: 1, ...options });
  return { time, buffer, maker: new ContactMaker(5) };
}

describe('ContactBuffer', () => {
  it('never hands out a contact before it answered a ping', () => {
    const { buffer, maker } = setup();
    const contact = maker.contact(1);
    expect(buffer.offer(contact)).toBe('added');
    expect(buffer.closest(contact.id, 20)).toEqual([]);
    expect(buffer.markVerified(contact)).toBe('verified');
    // Handed out with its wire address bytes, so NODES replies need not parse the host text again.
    expect(buffer.closest(contact.id, 20)).toEqual([{ ...contact, addressBytes: ipToBytes(contact.host) }]);
  });

  it('offers pending contacts for their first ping before anything else, and leases each task once', () => {
    const { buffer, maker } = setup();
    const contacts = [1, 2, 3].map((i) => maker.contact(i));
    contacts.forEach((c) => buffer.offer(c));
    const first = buffer.nextToVerify(10);
    expect(first.map((t) => t.kind)).toEqual(['pending', 'pending', 'pending']);
    expect(buffer.nextToVerify(10)).toEqual([]);
  });

  it('re-pings a verified entry once it is older than the re-verification age', () => {
    const { buffer, maker, time } = setup({ reverifyAfterMs: 60_000 });
    const contact = maker.contact(1);
    buffer.offer(contact);
    buffer.markVerified(contact);
    expect(buffer.nextToVerify(10)).toEqual([]);
    time.advance(61_000);
    expect(buffer.nextToVerify(10).map((t) => [t.kind, t.host])).toEqual([['reverify', contact.host]]);
  });

  it('stops handing out an entry whose re-verification failed, and drops it after maxFailures', () => {
    const { buffer, maker } = setup({ maxFailures: 2 });
    const contact = maker.contact(1);
    buffer.offer(contact);
    buffer.markVerified(contact);
    expect(buffer.markFailed(contact)).toBe('failed');
    expect(buffer.stateOf(contact.id)).toBe('suspect');
    expect(buffer.closest(contact.id, 20)).toEqual([]);
    expect(buffer.markFailed(contact)).toBe('removed');
    expect(buffer.stateOf(contact.id)).toBeUndefined();
    expect(buffer.stats()).toMatchObject({ size: 0, failedRemovals: 1, suspect: 0 });
  });

  it('retries a pending contact whose first ping failed only after the retry delay', () => {
    const { buffer, maker, time } = setup({ pendingRetryMs: 30_000, maxFailures: 3 });
    const contact = maker.contact(1);
    buffer.offer(contact);
    buffer.markFailed(buffer.nextToVerify(1)[0]);
    expect(buffer.nextToVerify(10)).toEqual([]);
    time.advance(30_000);
    expect(buffer.nextToVerify(10)).toHaveLength(1);
  });

  it('does not let an unverified packet move a verified entry: the new address is pinged first', () => {
    const { buffer, maker } = setup();
    const contact = maker.contact(1);
    buffer.offer(contact);
    buffer.markVerified(contact);
    const moved = { ...contact, host: '203.0.113.9', port: 4000 };
    expect(buffer.offer(moved)).toBe('move_pending');
    expect(buffer.closest(contact.id, 1)[0].host).toBe(contact.host);
    const [task] = buffer.nextToVerify(10);
    expect(task).toMatchObject({ kind: 'move', host: '203.0.113.9', port: 4000 });
    expect(buffer.markFailed(task)).toBe('move_dropped');
    expect(buffer.stateOf(contact.id)).toBe('verified');

    buffer.offer(moved);
    const [again] = buffer.nextToVerify(10);
    expect(buffer.markVerified(again)).toBe('moved');
    expect(buffer.closest(contact.id, 1)[0]).toMatchObject({ host: '203.0.113.9', port: 4000 });
  });

  it('ignores a verification report for an address nobody proposed', () => {
    const { buffer, maker } = setup();
    const contact = maker.contact(1);
    buffer.offer(contact);
    buffer.markVerified(contact);
    expect(buffer.markVerified({ ...contact, host: '198.51.100.1' })).toBe('ignored');
    expect(buffer.closest(contact.id, 1)[0].host).toBe(contact.host);
  });

  it('limits entries per IP and per /24 so one host cannot fill the buffer', () => {
    const { buffer, maker } = setup({ maxPerIp: 2, maxPerGroup: 3 });
    const sameIp = [1, 2, 3].map((p) => buffer.offer(maker.contact(0, { host: '20.1.1.1', port: 1000 + p })));
    expect(sameIp).toEqual(['added', 'added', 'ip_limit']);
    expect(buffer.offer(maker.contact(0, { host: '20.1.1.2' }))).toBe('added');
    expect(buffer.offer(maker.contact(0, { host: '20.1.1.3' }))).toBe('group_limit');
    expect(buffer.offer(maker.contact(0, { host: '20.1.2.3' }))).toBe('added');
    expect(buffer.stats().refusals).toMatchObject({ ip_limit: 1, group_limit: 1 });
  });

  it('frees an address slot when its entry is removed', () => {
    const { buffer, maker } = setup({ maxPerIp: 1, maxFailures: 1 });
    const first = maker.contact(0, { host: '20.1.1.1' });
    buffer.offer(first);
    expect(buffer.offer(maker.contact(0, { host: '20.1.1.1', port: 2 }))).toBe('ip_limit');
    buffer.markFailed(first);
    expect(buffer.offer(maker.contact(0, { host: '20.1.1.1', port: 2 }))).toBe('added');
  });

  it('keeps verified entries when a flood of fresh IDs arrives: newcomers are refused, not swapped in', () => {
    const { buffer, maker } = setup({ capacity: 50, stagingSize: 8, limitExempt: ['0.0.0.0/0'] });
    const verified = Array.from({ length: 50 }, (_, i) => maker.contact(i));
    for (const c of verified) {
      buffer.offer(c);
      buffer.markVerified(c);
    }
    const outcomes = Array.from({ length: 500 }, (_, i) => buffer.offer(maker.contact(1000 + i)));
    expect(new Set(outcomes)).toEqual(new Set(['full']));
    expect(buffer.stats()).toMatchObject({ verified: 50, size: 50 });
  });

  it('bounds pending contacts by the staging area while verified entries stay served', () => {
    const { buffer, maker } = setup({ capacity: 1_000, stagingSize: 8 });
    const outcomes = Array.from({ length: 20 }, (_, i) => buffer.offer(maker.contact(i)));
    expect(outcomes.filter((o) => o === 'added')).toHaveLength(8);
    expect(outcomes.filter((o) => o === 'pending_full')).toHaveLength(12);
  });

  it('refuses malformed contacts and filtered addresses without throwing', () => {
    const { buffer, maker } = setup({ acceptAddress: (host) => !host.startsWith('10.') });
    const good = maker.contact(1);
    const bad: unknown[] = [
      { ...good, id: new Uint8Array(19) },
      { ...good, publicKey: new Uint8Array(31) },
      { ...good, host: 'example.org' },
      { ...good, port: 0 },
      { ...good, port: 70_000 },
      null,
    ];
    for (const contact of bad) expect(buffer.offer(contact as never)).toBe('invalid_contact');
    expect(buffer.offer({ ...good, host: '10.0.0.1' })).toBe('address_filtered');
    expect(buffer.size).toBe(0);
  });

  it('holds IPv6 contacts in its side table and hands them out with their address', () => {
    const { buffer, maker } = setup();
    const contact = maker.contact(1, { host: '2001:db8::7' });
    buffer.offer(contact);
    buffer.markVerified(contact);
    expect(buffer.closest(contact.id, 1)[0].host).toBe('2001:db8::7');
    expect(buffer.stats().ipv6).toBe(1);
    buffer.markFailed(contact);
    buffer.markFailed(contact);
    expect(buffer.stats().ipv6).toBe(0);
  });

  it('leaves the requester out of its own answer', () => {
    const { buffer, maker } = setup();
    const [a, b] = [maker.contact(1), maker.contact(2)];
    for (const c of [a, b]) {
      buffer.offer(c);
      buffer.markVerified(c);
    }
    expect(buffer.closest(a.id, 20, { exclude: a.id }).map((c) => c.host)).toEqual([b.host]);
  });

  it('rejects a capacity above a million', () => {
    expect(() => setup({ capacity: 1_000_001 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
