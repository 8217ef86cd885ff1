import { createRandom } from './random';

describe('createRandom', () => {
  it('repeats the same sequence for the same seed and differs for another seed', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const seqA = Array.from({ length: 100 }, a);
    expect(Array.from({ length: 100 }, b)).toEqual(seqA);
    expect(Array.from({ length: 100 }, c)).not.toEqual(seqA);
  });

  it('stays within [0, 1) and spreads evenly over ten bins', () => {
    const random = createRandom(7);
    const bins = new Array<number>(10).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = random();
      if (!(x >= 0 && x < 1)) outOfRange++;
      else bins[Math.floor(x * 10)]++;
    }
    expect(outOfRange).toBe(0);
    // Each bin expects 10,000 with a standard deviation near 95; 500 is over five deviations.
    for (const count of bins) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('accepts any number as a seed', () => {
    for (const seed of [0, -1, 1.5, 2 ** 40, Number.NaN, Number.POSITIVE_INFINITY]) {
      const x = createRandom(seed)();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});
