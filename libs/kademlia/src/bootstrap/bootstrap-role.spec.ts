import { ipToBytes } from '../wire/ip-address';
import { VirtualClock } from '../sim/virtual-clock';
import type { Contact } from '../routing/contact';
import { BootstrapRole, type BootstrapRoleOptions } from './bootstrap-role';
import { ContactMaker } from './test/buffer-fixtures';

type Answer = 'yes' | 'no' | 'silent';

function setup(answers: (c: Contact) => Answer, options: Partial<BootstrapRoleOptions> = {}) {
  const clock = new VirtualClock();
  const pinged: string[] = [];
  const role = new BootstrapRole({
    clock,
    capacity: 1_000,
    seed: 3,
    verifyTimeoutMs: 1_000,
    wallClock: () => 1_700_000_000_000,
    ping: (contact, signal) => {
      pinged.push(contact.host);
      const answer = answers(contact);
      if (answer === 'silent') {
        // Never answers; gives up only when the role aborts.
        return new Promise((resolve) => signal.addEventListener('abort', () => resolve(false)));
      }
      return new Promise((resolve) => clock.setTimeout(() => resolve(answer === 'yes'), 20));
    },
    ...options,
  });
  return { clock, role, pinged, maker: new ContactMaker(9) };
}

describe('BootstrapRole', () => {
  it('pings offered contacts and hands out only those that answered', async () => {
    const { clock, role, maker } = setup((c) => (c.port === 1 ? 'yes' : 'no'));
    const good = maker.contact(1, { port: 1 });
    const bad = maker.contact(2, { port: 2 });
    role.offer(good);
    role.offer(bad);
    const report = await clock.runUntilSettled(role.verifyRound());
    expect(report).toMatchObject({ attempted: 2, verified: 1, failed: 1 });
    expect(role.closest(good.id, 20)).toEqual([{ ...good, addressBytes: ipToBytes(good.host) }]);
    expect(role.stats().verifyRttMs).toBe(20);
  });

  it('counts a ping past its deadline as a failure', async () => {
    const { clock, role, maker } = setup(() => 'silent', { maxFailures: 1 });
    const contact = maker.contact(1);
    role.offer(contact);
    const report = await clock.runUntilSettled(role.verifyRound());
    expect(report).toMatchObject({ attempted: 1, removed: 1 });
    expect(role.buffer.stateOf(contact.id)).toBeUndefined();
  });

  it('stays within its concurrency and rate budget', async () => {
    const { clock, role, maker, pinged } = setup(() => 'yes', {
      verifyConcurrency: 5,
      verifyRatePerSecond: 8,
    });
    for (let i = 0; i < 40; i++) role.offer(maker.contact(i));
    expect((await clock.runUntilSettled(role.verifyRound())).attempted).toBe(5);
    expect((await clock.runUntilSettled(role.verifyRound())).attempted).toBe(3);
    await clock.advance(1_000);
    expect((await clock.runUntilSettled(role.verifyRound())).attempted).toBe(5);
    expect(pinged).toHaveLength(13);
  });

  it('aborts pings in flight on close() without counting them as failures', async () => {
    const { clock, role, maker } = setup(() => 'silent');
    const contact = maker.contact(1);
    role.offer(contact);
    const round = role.verifyRound();
    role.close();
    expect(await clock.runUntilSettled(round)).toMatchObject({ attempted: 1, aborted: 1, failed: 0 });
    expect(role.buffer.stateOf(contact.id)).toBe('pending');
    expect(await role.verifyRound()).toMatchObject({ attempted: 0 });
  });

  it('restores a snapshot warm: the same contacts are handed out at once', async () => {
    const { clock, role, maker } = setup(() => 'yes');
    const contacts = [maker.contact(1), maker.contact(2, { host: '2001:db8::2' }), maker.contact(3)];
    contacts.forEach((c) => role.offer(c));
    await clock.runUntilSettled(role.verifyRound());
    const bytes = role.snapshot();

    const restarted = setup(() => 'yes').role;
    expect(restarted.restore(bytes)).toEqual({ loaded: 3, skipped: 0 });
    const target = contacts[0].id;
    expect(restarted.closest(target, 20)).toEqual(role.closest(target, 20));
  });

  it('restores entries older than restoreFreshMs as suspect: pinged before they are handed out', async () => {
    const { clock, role, maker } = setup(() => 'yes');
    const contact = maker.contact(1);
    role.offer(contact);
    await clock.runUntilSettled(role.verifyRound());
    const bytes = role.snapshot();
    const later = setup(() => 'yes', { wallClock: () => 1_700_000_000_000 + 2 * 60 * 60_000 }).role;
    later.restore(bytes);
    expect(later.buffer.stateOf(contact.id)).toBe('suspect');
    expect(later.closest(contact.id, 20)).toEqual([]);
  });

  it('rejects a corrupt snapshot with SNAPSHOT_INVALID and keeps its contents', async () => {
    const { clock, role, maker } = setup(() => 'yes');
    const contact = maker.contact(1);
    role.offer(contact);
    await clock.runUntilSettled(role.verifyRound());
    const good = role.snapshot();
    const flipped = good.slice();
    flipped[flipped.length - 3] ^= 0xff;
    const corrupt = [
      new Uint8Array(0),
      good.subarray(0, 30),
      flipped,
      new Uint8Array(1000).fill(0x4b),
      good.subarray(0, good.length - 1),
    ];
    for (const bytes of corrupt) {
      expect(() => role.restore(bytes)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INVALID' }));
    }
    expect(role.closest(contact.id, 20)).toEqual([{ ...contact, addressBytes: ipToBytes(contact.host) }]);
  });

  it('never throws on random bytes given as a snapshot', () => {
    const { role, maker } = setup(() => 'yes');
    for (let i = 0; i < 200; i++) {
      const bytes = maker.bytes(Math.floor(i * 3.7));
      try {
        role.restore(bytes);
      } catch (err) {
        expect(err).toMatchObject({ code: 'SNAPSHOT_INVALID' });
      }
    }
  });
});
