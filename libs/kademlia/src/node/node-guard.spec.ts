import type { Clock, TimerHandle } from '../clock';
import { DEFAULTS } from '../config/defaults';
import { puzzleBits } from '../id/puzzle';
import { randomId, type NodeId } from '../id/node-id';
import { NodeGuard } from './node-guard';
import { resolveOptions, type KademliaOptions } from './options';

/** A clock the test moves by hand; timers are never run (the guard's sampler is driven by calling update). */
function manualClock(): Clock & { advance(ms: number): void } {
  let t = 0;
  return {
    now: () => t,
    setTimeout: () => ({ unref: () => undefined }) as unknown as TimerHandle,
    clearTimeout: () => undefined,
    advance: (ms: number) => void (t += ms),
  };
}

function guardWith(options: KademliaOptions = {}) {
  const clock = manualClock();
  let queueDepth = 0;
  const reputationBans: string[] = [];
  const guard = new NodeGuard({
    options: resolveOptions(options),
    clock,
    queueDepth: () => queueDepth,
    onReputationBan: (host) => reputationBans.push(host),
  });
  return { guard, clock, reputationBans, setQueueDepth: (d: number) => (queueDepth = d) };
}

const DATA = Uint8Array.from([0x4b, 0x44, 0x01, 0x03, 0, 0, 0, 0]);
const INIT = Uint8Array.from([0x4b, 0x44, 0x01, 0x01, 0, 0, 0, 0]);
const from = (host: string) => ({ host, port: 6881 });

function admitted(guard: NodeGuard, packet: Uint8Array, host: string, count: number): number {
  let ok = 0;
  for (let i = 0; i < count; i++) if (guard.admitDatagram(packet, from(host)) === undefined) ok++;
  return ok;
}

function idWithPuzzleBits(atLeast: number, wanted: boolean): NodeId {
  for (;;) {
    const id = randomId();
    if (puzzleBits(id) >= atLeast === wanted) return id;
  }
}

describe('NodeGuard', () => {
  it('admits a burst then the steady rate per source, before any decryption', () => {
    const { guard, clock } = guardWith();
    expect(admitted(guard, DATA, '198.51.100.7', 150)).toBe(DEFAULTS.rateIpBurst);
    expect(guard.admitDatagram(DATA, from('198.51.100.7'))).toBe('rate_ip');
    clock.advance(1_000);
    expect(admitted(guard, DATA, '198.51.100.7', 40)).toBe(DEFAULTS.rateIpPerSecond);
    // Still over the limit: more than banAfterDrops drops in one window ban the source.
    admitted(guard, DATA, '198.51.100.7', DEFAULTS.banAfterDrops);
    expect(guard.admitDatagram(DATA, from('198.51.100.7'))).toBe('banned');
    expect(guard.isBanned('198.51.100.7')).toBe(true);
    // A neighbour in another /24 is untouched.
    expect(admitted(guard, DATA, '198.51.101.7', 10)).toBe(10);
  });

  it('charges handshake initiations to their own, smaller budget', () => {
    const { guard } = guardWith();
    expect(admitted(guard, INIT, '203.0.113.9', 50)).toBe(DEFAULTS.rateHandshakeBurst);
    expect(guard.admitDatagram(INIT, from('203.0.113.9'))).toBe('rate_handshake');
    // Session traffic of the same source still has packet budget left.
    expect(guard.admitDatagram(DATA, from('203.0.113.9'))).toBeUndefined();
  });

  it('does not charge the answers of hosts we just asked, but does charge their handshakes', () => {
    const { guard, clock } = guardWith();
    guard.noteRequestSent(from('192.0.2.1'));
    expect(admitted(guard, DATA, '192.0.2.1', 1_000)).toBe(1_000);
    expect(admitted(guard, INIT, '192.0.2.1', 50)).toBe(DEFAULTS.rateHandshakeBurst);
    clock.advance(DEFAULTS.guardContactedWindowMs);
    // The window has passed: its packets are unsolicited again (and its burst was never spent on answers).
    expect(admitted(guard, DATA, '192.0.2.1', 500)).toBeLessThan(500);
  });

  it('never limits the operator trusted networks, and limits nothing with rateLimit: false', () => {
    const trusted = guardWith({ trustedNetworks: ['10.8.0.0/16'] }).guard;
    expect(admitted(trusted, INIT, '10.8.3.4', 1_000)).toBe(1_000);
    const off = guardWith({ rateLimit: false }).guard;
    expect(admitted(off, DATA, '198.51.100.7', 1_000)).toBe(1_000);
    expect(off.stats().rateLimit).toBeUndefined();
  });

  it('sheds by priority once load is high: STOREs first, PINGs of known peers never', () => {
    const { guard, setQueueDepth, clock } = guardWith();
    const request = (kind: 'store' | 'find_node' | 'ping', knownPeer: boolean) =>
      guard.admitRequest({ kind, host: '198.51.100.20', knownPeer });
    expect(request('store', true)).toBeUndefined();
    // Requests pile up; the next request after a sampling period samples the load and raises the level.
    setQueueDepth(DEFAULTS.maxInflightRequests);
    expect(request('store', true)).toBeUndefined();
    clock.advance(DEFAULTS.loadSampleMs);
    expect(request('store', true)).toBe('shed_queue');
    expect(guard.shedder!.level).toBe(4);
    expect(request('find_node', false)).toBe('shed_queue');
    expect(request('ping', false)).toBe('shed_queue');
    expect(request('ping', true)).toBeUndefined();
    expect(guard.admitDatagram(INIT, from('198.51.100.21'))).toBe('shed_queue');
  });

  it('gives each source a STORE budget of its own', () => {
    const { guard } = guardWith();
    let ok = 0;
    for (let i = 0; i < 50; i++) {
      if (guard.admitRequest({ kind: 'store', host: '198.51.100.30', knownPeer: true }) === undefined) ok++;
    }
    expect(ok).toBe(DEFAULTS.rateStoreBurst);
  });

  it('refuses bogon contacts in public mode only, unless they are in a trusted network', () => {
    const open = guardWith().guard;
    expect(open.checkContact({ id: randomId(), host: '10.1.2.3' })).toBeUndefined();
    const publicNode = guardWith({ publicMode: true, trustedNetworks: ['10.9.0.0/16'] }).guard;
    expect(publicNode.checkContact({ id: randomId(), host: '10.1.2.3' })).toBe('bogon');
    expect(publicNode.checkContact({ id: randomId(), host: '127.0.0.1' })).toBe('bogon');
    expect(publicNode.checkContact({ id: randomId(), host: '::1' })).toBe('bogon');
    expect(publicNode.checkContact({ id: randomId(), host: '10.9.1.1' })).toBeUndefined();
    expect(publicNode.checkContact({ id: randomId(), host: '8.8.8.8' })).toBeUndefined();
    expect(publicNode.stats().contactsRefused).toEqual({ bogon: 3 });
  });

  it('refuses IDs that do not solve the network puzzle', () => {
    const { guard } = guardWith({ idPuzzleDifficulty: 6 });
    expect(guard.checkContact({ id: idWithPuzzleBits(6, false), host: '8.8.8.8' })).toBe('puzzle');
    expect(guard.checkContact({ id: idWithPuzzleBits(6, true), host: '8.8.8.8' })).toBeUndefined();
  });

  it('bans a peer whose reputation sinks, refusing its contacts and its packets', () => {
    const { guard, reputationBans } = guardWith();
    for (let i = 0; i < 3; i++) guard.report('198.51.100.66', 'bad_signature');
    expect(reputationBans).toEqual(['198.51.100.66']);
    expect(guard.isBanned('198.51.100.66')).toBe(true);
    expect(guard.checkContact({ id: randomId(), host: '198.51.100.66' })).toBe('banned');
    expect(guard.admitDatagram(DATA, from('198.51.100.66'))).toBe('banned');
    // Trusted hosts collect no reputation at all.
    const trusted = guardWith({ trustedNetworks: ['198.51.100.0/24'] });
    for (let i = 0; i < 10; i++) trusted.guard.report('198.51.100.66', 'bad_signature');
    expect(trusted.reputationBans).toEqual([]);
  });
});
