import { DEFAULTS } from '../config/defaults';
import { PeerTimeouts, RttEstimator } from './rtt-estimator';

const WIDE = { initialTimeoutMs: 1000, minTimeoutMs: 1, maxTimeoutMs: 60_000 };

describe('RttEstimator', () => {
  it('uses the initial timeout before any sample', () => {
    const rtt = new RttEstimator(WIDE);
    expect(rtt.timeoutMs()).toBe(1000);
    expect(rtt.srtt).toBeUndefined();
    expect(rtt.rttvar).toBeUndefined();
    expect(rtt.samples).toBe(0);
  });

  it('follows RFC 6298 §2 exactly: first sample, then alpha 1/8 and beta 1/4 updates', () => {
    const rtt = new RttEstimator(WIDE);
    rtt.sample(100);
    expect([rtt.srtt, rtt.rttvar, rtt.timeoutMs()]).toEqual([100, 50, 300]);
    rtt.sample(200);
    // RTTVAR = 3/4·50 + 1/4·|100 − 200|; SRTT = 7/8·100 + 1/8·200; RTO = SRTT + 4·RTTVAR
    expect([rtt.srtt, rtt.rttvar, rtt.timeoutMs()]).toEqual([112.5, 62.5, 362.5]);
    rtt.sample(50);
    expect([rtt.srtt, rtt.rttvar, rtt.timeoutMs()]).toEqual([104.6875, 62.5, 354.6875]);
    expect(rtt.samples).toBe(3);
  });

  it('keeps the variance term at least the clock granularity (1 ms)', () => {
    const rtt = new RttEstimator(WIDE);
    for (let i = 0; i < 40; i++) rtt.sample(100);
    expect(rtt.srtt).toBe(100);
    expect(4 * (rtt.rttvar as number)).toBeLessThan(1);
    expect(rtt.timeoutMs()).toBe(101);
  });

  it('clamps the timeout to [min, max]', () => {
    const bounds = { initialTimeoutMs: 1000, minTimeoutMs: 250, maxTimeoutMs: 4000 };
    const fast = new RttEstimator(bounds);
    fast.sample(10);
    expect(fast.timeoutMs()).toBe(250);
    const slow = new RttEstimator(bounds);
    slow.sample(3000);
    expect(slow.timeoutMs()).toBe(4000);
  });

  it('doubles the timeout on each timeout up to the ceiling, and a sample ends the backoff', () => {
    const rtt = new RttEstimator({ initialTimeoutMs: 1000, minTimeoutMs: 100, maxTimeoutMs: 5000 });
    rtt.onTimeout();
    expect(rtt.timeoutMs()).toBe(2000);
    rtt.onTimeout();
    expect(rtt.timeoutMs()).toBe(4000);
    rtt.onTimeout();
    expect(rtt.timeoutMs()).toBe(5000);
    for (let i = 0; i < 2000; i++) rtt.onTimeout();
    expect(rtt.timeoutMs()).toBe(5000);

    rtt.sample(100);
    expect(rtt.timeoutMs()).toBe(300);
    rtt.onTimeout();
    expect(rtt.timeoutMs()).toBe(600);
  });

  it('backs off from the clamped value, so a floor-limited peer still gets longer timeouts', () => {
    const rtt = new RttEstimator({ initialTimeoutMs: 1000, minTimeoutMs: 250, maxTimeoutMs: 4000 });
    rtt.sample(10);
    rtt.onTimeout();
    expect(rtt.timeoutMs()).toBe(500);
  });

  it('ignores negative, NaN and infinite samples', () => {
    const rtt = new RttEstimator(WIDE);
    rtt.sample(100);
    for (const bad of [-1, Number.NaN, Infinity]) rtt.sample(bad);
    expect([rtt.srtt, rtt.rttvar, rtt.samples]).toEqual([100, 50, 1]);
  });

  it('rejects inconsistent bounds', () => {
    expect(
      () => new RttEstimator({ initialTimeoutMs: 1000, minTimeoutMs: 500, maxTimeoutMs: 100 }),
    ).toThrow();
    expect(() => new RttEstimator({ initialTimeoutMs: 1000, minTimeoutMs: 0, maxTimeoutMs: 100 })).toThrow();
  });
});

describe('PeerTimeouts', () => {
  const options = { maxPeers: 2, initialTimeoutMs: 1000, minTimeoutMs: 100, maxTimeoutMs: 8000 };

  it('gives unknown peers the initial timeout without keeping an entry for them', () => {
    const timeouts = new PeerTimeouts(options);
    expect(timeouts.timeoutFor('192.0.2.1:6881')).toBe(1000);
    expect(timeouts.size).toBe(0);
    expect(timeouts.estimator('192.0.2.1:6881')).toBeUndefined();
  });

  it('keeps a separate estimate per peer', () => {
    const timeouts = new PeerTimeouts(options);
    timeouts.sample('a', 100);
    timeouts.sample('b', 1000);
    expect(timeouts.timeoutFor('a')).toBe(300);
    expect(timeouts.timeoutFor('b')).toBe(3000);
    timeouts.onTimeout('a');
    expect(timeouts.timeoutFor('a')).toBe(600);
    expect(timeouts.timeoutFor('b')).toBe(3000);
  });

  it('backs off a peer that has never answered', () => {
    const timeouts = new PeerTimeouts(options);
    timeouts.onTimeout('silent');
    timeouts.onTimeout('silent');
    expect(timeouts.timeoutFor('silent')).toBe(4000);
  });

  it('keeps at most maxPeers estimates, forgetting the least recently used', () => {
    const timeouts = new PeerTimeouts(options);
    timeouts.sample('a', 100);
    timeouts.sample('b', 200);
    timeouts.timeoutFor('a');
    timeouts.sample('c', 300);
    expect(timeouts.size).toBe(2);
    expect(timeouts.estimator('b')).toBeUndefined();
    expect(timeouts.estimator('a')?.srtt).toBe(100);
    expect(timeouts.timeoutFor('b')).toBe(1000);
  });

  it('reports the median of recent samples over a bounded window', () => {
    const timeouts = new PeerTimeouts({ ...options, medianWindow: 3 });
    expect(timeouts.medianRttMs()).toBeUndefined();
    timeouts.sample('a', 30);
    expect(timeouts.medianRttMs()).toBe(30);
    timeouts.sample('b', 10);
    timeouts.sample('c', 20);
    expect(timeouts.medianRttMs()).toBe(20);
    timeouts.sample('a', 100);
    timeouts.sample('a', 200);
    // Window now holds 20, 100, 200.
    expect(timeouts.medianRttMs()).toBe(100);
    timeouts.sample('a', -5);
    expect(timeouts.medianRttMs()).toBe(100);
  });

  it('takes its defaults from DEFAULTS', () => {
    const timeouts = new PeerTimeouts();
    expect(timeouts.timeoutFor('x')).toBe(DEFAULTS.initialTimeoutMs);
    timeouts.sample('x', 1);
    expect(timeouts.timeoutFor('x')).toBe(DEFAULTS.minTimeoutMs);
  });
});
