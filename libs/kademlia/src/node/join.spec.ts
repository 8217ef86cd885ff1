import { isKademliaError, type KademliaError } from '../errors';
import type { PeerAddress } from '../session/session-layer';
import { VirtualClock } from '../sim/virtual-clock';
import type { KademliaEventMap } from './events';
import { joinNetwork, type JoinHost } from './join';

const RETRY_MIN = 1_000;
const RETRY_MAX = 8_000;
const KEY_HEX = 'cd'.repeat(32);

type Emitted = {
  [E in keyof KademliaEventMap]: { event: E; args: KademliaEventMap[E]; at: number };
}[keyof KademliaEventMap];

/**
 * A JoinHost over a virtual clock. Peers answer when `answers(peer, round)` says so; every ping is recorded with
 * its virtual time, so tests can read the rounds and the backoff between them.
 */
class FakeJoinHost implements JoinHost {
  readonly clock = new VirtualClock();
  readonly retryMinMs = RETRY_MIN;
  readonly retryMaxMs = RETRY_MAX;
  readonly lifetime = new AbortController();
  readonly signal = this.lifetime.signal;
  readonly pings: Array<{ peer: PeerAddress; at: number }> = [];
  readonly events: Emitted[] = [];
  populateCalls = 0;
  size = 0;
  snapshot: PeerAddress[] = [];
  random?: () => number;
  answers: (peer: PeerAddress, at: number) => boolean = () => false;

  tableSize(): number {
    return this.size;
  }

  async snapshotPeers(): Promise<PeerAddress[]> {
    return this.snapshot;
  }

  async ping(peer: PeerAddress, signal: AbortSignal): Promise<unknown> {
    expect(signal).toBe(this.signal);
    const at = this.clock.now();
    this.pings.push({ peer, at });
    if (!this.answers(peer, at)) throw new Error('timeout');
    this.size++;
    return { pong: true };
  }

  async populate(): Promise<void> {
    this.populateCalls++;
    this.size += 10;
  }

  emit<E extends keyof KademliaEventMap>(event: E, ...args: KademliaEventMap[E]): boolean {
    this.events.push({ event, args, at: this.clock.now() } as Emitted);
    return true;
  }

  /** Virtual times at which a round of pings went out. */
  rounds(): number[] {
    return [...new Set(this.pings.map((p) => p.at))];
  }

  named<E extends keyof KademliaEventMap>(event: E): Array<Extract<Emitted, { event: E }>> {
    return this.events.filter((e): e is Extract<Emitted, { event: E }> => e.event === event);
  }
}

/** Backoff before attempt n+1 is full-jittered in [base/2, base], base = min(max, min * 2^(n-1)). */
function expectBackoff(gap: number, attempt: number): void {
  const base = Math.min(RETRY_MAX, RETRY_MIN * 2 ** (attempt - 1));
  expect(gap).toBeGreaterThanOrEqual(base / 2);
  expect(gap).toBeLessThanOrEqual(base);
}

describe('joinNetwork', () => {
  it('with no entries and no snapshot, reports the first node of a network as bootstrapped at once', async () => {
    const host = new FakeJoinHost();
    const report = await host.clock.runUntilSettled(joinNetwork(host, { entries: [], attempts: 3 }));
    expect(report).toEqual({ bootstrapped: true, answered: 0, tried: 0, tableSize: 0 });
    expect(host.pings).toEqual([]);
    expect(host.populateCalls).toBe(0);
    expect(host.clock.now()).toBe(0);
  });

  it('pings an answering entry, populates the table and emits bootstrapped', async () => {
    const host = new FakeJoinHost();
    host.answers = () => true;
    const report = await host.clock.runUntilSettled(
      joinNetwork(host, { entries: [`${KEY_HEX}@192.0.2.1:6881`], attempts: 3 }),
    );
    expect(report).toEqual({ bootstrapped: true, answered: 1, tried: 1, tableSize: 11 });
    expect(host.pings).toHaveLength(1);
    expect(host.pings[0].peer.endpoint).toEqual({ host: '192.0.2.1', port: 6881 });
    expect(Buffer.from(host.pings[0].peer.publicKey!).toString('hex')).toBe(KEY_HEX);
    expect(host.populateCalls).toBe(1);
    expect(host.named('bootstrapped')).toEqual([
      {
        event: 'bootstrapped',
        args: [{ bootstrapped: true, answered: 1, tried: 1, tableSize: 11, attempt: 1 }],
        at: 0,
      },
    ]);
    expect(host.named('bootstrapFailed')).toEqual([]);
    expect(host.clock.pending()).toBe(0);
  });

  it('counts a round as joined when any one of several entries answers', async () => {
    const host = new FakeJoinHost();
    host.answers = (peer) => peer.endpoint.port === 2;
    const report = await host.clock.runUntilSettled(
      joinNetwork(host, { entries: ['192.0.2.1:1', '192.0.2.1:2', '[2001:db8::1]:3'], attempts: 1 }),
    );
    expect(report).toMatchObject({ bootstrapped: true, answered: 1, tried: 3 });
    expect(host.populateCalls).toBe(1);
  });

  it('pings the snapshot contacts along with the entries', async () => {
    const host = new FakeJoinHost();
    const snapshotPeer: PeerAddress = {
      endpoint: { host: '198.51.100.7', port: 4000 },
      publicKey: new Uint8Array(32).fill(7),
    };
    host.snapshot = [snapshotPeer];
    host.answers = (peer) => peer.endpoint.host === '198.51.100.7';
    const report = await host.clock.runUntilSettled(
      joinNetwork(host, { entries: ['192.0.2.1:6881'], attempts: 3 }),
    );
    expect(report).toMatchObject({ bootstrapped: true, answered: 1, tried: 2 });
    expect(host.pings.map((p) => p.peer)).toContainEqual(snapshotPeer);
  });

  it('pings the snapshot contacts again on every foreground round and every background retry', async () => {
    const host = new FakeJoinHost();
    const snapshotPeer: PeerAddress = { endpoint: { host: '198.51.100.7', port: 4000 } };
    host.snapshot = [snapshotPeer];
    await host.clock.runUntilSettled(joinNetwork(host, { entries: ['192.0.2.1:6881'], attempts: 3 }));
    await host.clock.advance(20_000);
    const rounds = host.rounds();
    expect(rounds.length).toBeGreaterThan(4);
    for (const at of rounds) {
      // A snapshot contact that was briefly unreachable (our network came up late) is as good as an entry.
      expect(host.pings.filter((p) => p.at === at).map((p) => p.peer.endpoint.host)).toEqual([
        '192.0.2.1',
        '198.51.100.7',
      ]);
    }
    host.lifetime.abort();
  });

  it('joins through snapshot contacts alone when no entries are given', async () => {
    const host = new FakeJoinHost();
    host.snapshot = [{ endpoint: { host: '198.51.100.7', port: 4000 } }];
    host.answers = () => true;
    const report = await host.clock.runUntilSettled(joinNetwork(host, { entries: [], attempts: 3 }));
    expect(report).toMatchObject({ bootstrapped: true, answered: 1, tried: 1 });
    expect(host.named('bootstrapped')).toHaveLength(1);
  });

  it('retries `attempts` rounds with growing backoff, then emits bootstrapFailed and resolves unjoined', async () => {
    const host = new FakeJoinHost();
    const report = await host.clock.runUntilSettled(
      joinNetwork(host, { entries: ['192.0.2.1:6881'], attempts: 4 }),
    );
    expect(report).toEqual({ bootstrapped: false, answered: 0, tried: 1, tableSize: 0 });
    const rounds = host.rounds();
    expect(rounds).toHaveLength(4);
    expect(rounds[0]).toBe(0);
    for (let i = 1; i < rounds.length; i++) expectBackoff(rounds[i] - rounds[i - 1], i);
    expect(host.populateCalls).toBe(0);

    const failed = host.named('bootstrapFailed');
    expect(failed).toHaveLength(1);
    const err: KademliaError = failed[0].args[0];
    expect(isKademliaError(err, 'BOOTSTRAP_FAILED')).toBe(true);
    expect(err.details).toEqual({ tried: 1 });
    expect(failed[0].at).toBe(rounds[3]);
    expect(host.named('bootstrapped')).toEqual([]);
    host.lifetime.abort();
  });

  it('keeps retrying in the background, capped at retryMaxMs, and emits bootstrapped once a peer answers', async () => {
    const host = new FakeJoinHost();
    const report = await host.clock.runUntilSettled(
      joinNetwork(host, { entries: ['192.0.2.1:6881'], attempts: 2 }),
    );
    expect(report.bootstrapped).toBe(false);
    const resolvedAt = host.clock.now();

    // Offline for a while: several background rounds, the later ones at the capped pace.
    await host.clock.advance(40_000);
    const rounds = host.rounds();
    expect(rounds.length).toBeGreaterThanOrEqual(6);
    expect(rounds[2]).toBeGreaterThan(resolvedAt);
    expectBackoff(rounds[1] - rounds[0], 1);
    for (let i = 2; i < rounds.length; i++) {
      const gap = rounds[i] - rounds[i - 1];
      expect(gap).toBeGreaterThanOrEqual(RETRY_MIN);
      expect(gap).toBeLessThanOrEqual(RETRY_MAX);
    }
    // Past the cap the pace stays within [max/2, max]: retrying forever never floods the bootstrap nodes.
    expectBackoff(rounds[rounds.length - 1] - rounds[rounds.length - 2], 10);
    expect(host.named('bootstrapped')).toEqual([]);

    // The network comes back.
    host.answers = () => true;
    const joined = await host.clock.runUntil(() => host.named('bootstrapped').length > 0, {
      maxTimeMs: 2 * RETRY_MAX,
    });
    expect(joined).toBe(true);
    const [event] = host.named('bootstrapped')[0].args;
    expect(event).toMatchObject({ answered: 1, tried: 1, attempt: host.rounds().length });
    expect(host.populateCalls).toBe(1);

    // Joined: no more retries, no timers left.
    const pingsWhenJoined = host.pings.length;
    await host.clock.advance(10 * RETRY_MAX);
    expect(host.pings).toHaveLength(pingsWhenJoined);
    expect(host.clock.pending()).toBe(0);
  });

  it('doubles the gap at each round, foreground and background alike, using the injected jitter source', async () => {
    const run = async () => {
      const host = new FakeJoinHost();
      host.random = () => 0.5;
      await host.clock.runUntilSettled(joinNetwork(host, { entries: ['192.0.2.1:6881'], attempts: 2 }));
      await host.clock.advance(40_000);
      host.lifetime.abort();
      const rounds = host.rounds();
      return rounds.slice(1).map((at, i) => at - rounds[i]);
    };
    const gaps = await run();
    // base = 1000, 2000, 4000, 8000 (the cap), each jittered to base/2 + 0.5 * base/2.
    expect(gaps.slice(0, 6)).toEqual([750, 1_500, 3_000, 6_000, 6_000, 6_000]);
    // The same jitter source gives the same schedule: simulations repeat.
    expect(await run()).toEqual(gaps);
  });

  it('stops retrying in the background once the table fills some other way', async () => {
    const host = new FakeJoinHost();
    await host.clock.runUntilSettled(joinNetwork(host, { entries: ['192.0.2.1:6881'], attempts: 1 }));
    const pings = host.pings.length;
    host.size = 5; // a peer found us and its request put it in our table
    await host.clock.advance(10 * RETRY_MAX);
    expect(host.pings).toHaveLength(pings);
    expect(host.clock.pending()).toBe(0);
  });

  it('stops background retries when the signal aborts, leaving no timer', async () => {
    const host = new FakeJoinHost();
    await host.clock.runUntilSettled(joinNetwork(host, { entries: ['192.0.2.1:6881'], attempts: 1 }));
    await host.clock.advance(5_000);
    const pings = host.pings.length;
    host.lifetime.abort();
    await host.clock.advance(0);
    expect(host.clock.pending()).toBe(0);
    host.answers = () => true;
    await host.clock.advance(10 * RETRY_MAX);
    expect(host.pings).toHaveLength(pings);
    expect(host.named('bootstrapped')).toEqual([]);
  });

  it('returns unjoined without bootstrapFailed when aborted between foreground rounds', async () => {
    const host = new FakeJoinHost();
    const joining = joinNetwork(host, { entries: ['192.0.2.1:6881'], attempts: 5 });
    await host.clock.advance(0);
    expect(host.pings).toHaveLength(1);
    host.lifetime.abort();
    const report = await host.clock.runUntilSettled(joining);
    expect(report.bootstrapped).toBe(false);
    expect(host.pings).toHaveLength(1);
    expect(host.named('bootstrapFailed')).toEqual([]);
    expect(host.clock.pending()).toBe(0);
  });

  it('rejects with CONFIG_INVALID for a malformed entry', async () => {
    const host = new FakeJoinHost();
    await expect(
      host.clock.runUntilSettled(joinNetwork(host, { entries: ['no port here'], attempts: 3 })),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
