import fc from 'fast-check';
import { isKademliaError } from '../errors';
import { TokenBucket } from './token-bucket';

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return isKademliaError(err) ? err.code : 'not a KademliaError';
  }
  return 'no error';
}

describe('TokenBucket', () => {
  it('starts full and admits exactly one burst at once', () => {
    const bucket = new TokenBucket({ ratePerSecond: 20, burst: 100, nowMs: 0 });
    let admitted = 0;
    for (let i = 0; i < 150; i++) if (bucket.tryTake(0)) admitted++;
    expect(admitted).toBe(100);
  });

  it('refills at the configured rate, computed from elapsed time alone', () => {
    const bucket = new TokenBucket({ ratePerSecond: 20, burst: 100, nowMs: 0 });
    while (bucket.tryTake(0));
    expect(bucket.available(500)).toBeCloseTo(10, 10);
    expect(bucket.tryTake(500, 10)).toBe(true);
    expect(bucket.tryTake(500)).toBe(false);
    expect(bucket.available(550)).toBeCloseTo(1, 10);
  });

  it('never holds more than its burst, however long it was idle', () => {
    const bucket = new TokenBucket({ ratePerSecond: 20, burst: 100, nowMs: 0 });
    expect(bucket.available(24 * 3_600_000)).toBe(100);
  });

  it('admits rate × time + burst over a long run of constant overload', () => {
    const bucket = new TokenBucket({ ratePerSecond: 20, burst: 100, nowMs: 0 });
    let admitted = 0;
    // 100 packets per second for 10 s, one every 10 ms.
    for (let t = 0; t < 10_000; t += 10) if (bucket.tryTake(t)) admitted++;
    expect(admitted).toBeGreaterThanOrEqual(100 + 199);
    expect(admitted).toBeLessThanOrEqual(100 + 200);
  });

  it('a failed take takes nothing', () => {
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 5, nowMs: 0 });
    expect(bucket.tryTake(0, 3)).toBe(true);
    expect(bucket.tryTake(0, 3)).toBe(false);
    expect(bucket.available(0)).toBe(2);
  });

  it('refund gives tokens back, capped at the burst', () => {
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 5, nowMs: 0 });
    bucket.tryTake(0, 2);
    bucket.refund(1);
    expect(bucket.available(0)).toBe(4);
    bucket.refund(10);
    expect(bucket.available(0)).toBe(5);
  });

  it('ignores clock readings older than the last one instead of counting time twice', () => {
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 10, nowMs: 1_000 });
    while (bucket.tryTake(1_000));
    expect(bucket.available(500)).toBe(0);
    expect(bucket.available(Number.NaN)).toBe(0);
    expect(bucket.available(1_100)).toBeCloseTo(1, 10);
  });

  it('says how long until tokens are available, and when they never will be', () => {
    const bucket = new TokenBucket({ ratePerSecond: 4, burst: 2, nowMs: 0 });
    expect(bucket.msUntil(0)).toBe(0);
    bucket.tryTake(0, 2);
    expect(bucket.msUntil(0)).toBeCloseTo(250, 10);
    expect(bucket.msUntil(0, 3)).toBe(Infinity);
    const stopped = new TokenBucket({ ratePerSecond: 0, burst: 1, nowMs: 0 });
    stopped.tryTake(0);
    expect(stopped.msUntil(1_000_000)).toBe(Infinity);
  });

  it('rejects nonsense rates, bursts and times with CONFIG_INVALID', () => {
    for (const bad of [
      { ratePerSecond: -1, burst: 1, nowMs: 0 },
      { ratePerSecond: Number.NaN, burst: 1, nowMs: 0 },
      { ratePerSecond: 1, burst: 0, nowMs: 0 },
      { ratePerSecond: 1, burst: Infinity, nowMs: 0 },
      { ratePerSecond: 1, burst: 1, nowMs: Number.NaN },
    ]) {
      expect(errorCode(() => new TokenBucket(bad))).toBe('CONFIG_INVALID');
    }
  });

  it('never admits more than burst + rate × elapsed, for any arrival pattern', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 1_000, noNaN: true }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 1, max: 5 })), {
          maxLength: 300,
        }),
        (rate, burst, arrivals) => {
          const bucket = new TokenBucket({ ratePerSecond: rate, burst, nowMs: 0 });
          let t = 0;
          let admitted = 0;
          for (const [gap, cost] of arrivals) {
            t += gap;
            if (bucket.tryTake(t, cost)) admitted += cost;
          }
          expect(admitted).toBeLessThanOrEqual(burst + (rate * t) / 1000 + 1e-6);
          const left = bucket.available(t);
          expect(left).toBeGreaterThanOrEqual(0);
          expect(left).toBeLessThanOrEqual(burst);
        },
      ),
    );
  });
});
