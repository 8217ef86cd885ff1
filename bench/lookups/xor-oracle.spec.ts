import { compareXorDistance, isExact, trueClosest } from './xor-oracle';

const id = (...bytes: number[]) => new Uint8Array(bytes);

describe('the brute-force lookup oracle', () => {
  it('orders IDs by XOR distance to the target, byte by byte', () => {
    const target = id(0b1010, 0);
    expect(compareXorDistance(target, id(0b1011, 0), id(0b1000, 0))).toBeLessThan(0);
    expect(compareXorDistance(target, id(0b1010, 9), id(0b1010, 1))).toBeGreaterThan(0);
    expect(compareXorDistance(target, id(1, 2), id(1, 2))).toBe(0);
  });

  it('returns the k closest, nearest first, without the querying node itself', () => {
    const ids = [id(9), id(1), id(2), id(3), id(0)];
    const closest = trueClosest({ ids, target: id(0), k: 3, self: id(0) });
    expect(closest).toEqual([id(1), id(2), id(3)]);
  });

  it('calls a result exact only with the same IDs in the same order', () => {
    expect(isExact([id(1), id(2)], [id(1), id(2)])).toBe(true);
    expect(isExact([id(2), id(1)], [id(1), id(2)])).toBe(false);
    expect(isExact([id(1)], [id(1), id(2)])).toBe(false);
  });
});
