import fc from 'fast-check';
import { ReplayWindow } from './replay-window';

function accept(window: ReplayWindow, counter: number): string {
  const verdict = window.check(counter);
  if (verdict === 'ok') window.mark(counter);
  return verdict;
}

describe('ReplayWindow', () => {
  it('accepts each counter once, in any order within the window', () => {
    const window = new ReplayWindow(2048);
    expect([5, 3, 4, 0, 5, 3].map((c) => accept(window, c))).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'duplicate',
      'duplicate',
    ]);
    expect(window.highestSeen).toBe(5);
  });

  it('refuses counters 2048 or more below the highest and accepts 2047 below', () => {
    const window = new ReplayWindow(2048);
    accept(window, 10_000);
    expect(window.check(10_000 - 2048)).toBe('too_old');
    expect(accept(window, 10_000 - 2047)).toBe('ok');
    expect(window.check(10_000 - 2047)).toBe('duplicate');
  });

  it('forgets old bits when the window slides, so a reused bit position is not a false duplicate', () => {
    const window = new ReplayWindow(64);
    for (let c = 0; c < 64; c++) accept(window, c);
    accept(window, 200);
    for (let c = 137; c < 200; c++) expect(accept(window, c)).toBe('ok');
    expect(window.check(136)).toBe('too_old');
  });

  it('refuses negative, fractional and unsafe counters without changing state', () => {
    const window = new ReplayWindow();
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) expect(window.check(bad)).toBe('invalid');
    expect(window.highestSeen).toBe(-1);
  });

  it('agrees with a set-based oracle on random counter sequences', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.nat(300), fc.integer({ min: 0, max: 5000 })), { maxLength: 300 }),
        (counters) => {
          const window = new ReplayWindow(128);
          const seen = new Set<number>();
          let highest = -1;
          for (const c of counters) {
            const expected = highest - c >= 128 ? 'too_old' : seen.has(c) ? 'duplicate' : 'ok';
            expect(accept(window, c)).toBe(expected);
            if (expected === 'ok') {
              seen.add(c);
              highest = Math.max(highest, c);
            }
          }
        },
      ),
    );
  });

  it('rejects a window size that is not a positive multiple of 32', () => {
    expect(() => new ReplayWindow(100)).toThrow(RangeError);
    expect(() => new ReplayWindow(0)).toThrow(RangeError);
  });
});
