import fc from 'fast-check';
import { DEFAULTS, compareDistance, sharedPrefixLength, type NodeId } from '../../libs/kademlia/src';
import { RoutingTable } from '../../libs/kademlia/src/routing/routing-table';
import { createRandom } from '../../libs/kademlia/src/sim/random';
import { convergedTableIndices, prefixRange } from './converged-table';

function sortedRandomIds(count: number, seed: number): NodeId[] {
  const random = createRandom(seed);
  const ids = Array.from({ length: count }, () => {
    const id = new Uint8Array(20);
    for (let i = 0; i < 20; i++) id[i] = Math.floor(random() * 256);
    return id;
  });
  return ids.sort((a, b) => Buffer.compare(a, b));
}

function tableOf(input: { ids: NodeId[]; self: number; splitRelaxation: number; seed: number }) {
  const { ids, self, splitRelaxation, seed } = input;
  return convergedTableIndices({
    sortedIds: ids,
    localId: ids[self],
    k: 20,
    splitRelaxation,
    random: createRandom(seed),
  });
}

describe('convergedTableIndices', () => {
  const ids = sortedRandomIds(3_000, 7);

  it('finds exactly the IDs sharing a prefix (prefixRange against a scan)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ids.length - 1 }), fc.integer({ min: 0, max: 14 }), (i, bits) => {
        const [from, to] = prefixRange(ids, ids[i], bits);
        const expected = ids.filter((id) => sharedPrefixLength(id, ids[i]) >= bits).length;
        expect(to - from).toBe(expected);
        for (let j = from; j < to; j++)
          expect(sharedPrefixLength(ids[j], ids[i])).toBeGreaterThanOrEqual(bits);
      }),
      { numRuns: 50 },
    );
  });

  it('gives the paper table: at most k per distance range, all of a range when it holds k or fewer', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ids.length - 1 }), (self) => {
        const table = tableOf({ ids, self, splitRelaxation: 1, seed: self });
        expect(new Set(table).size).toBe(table.length);
        expect(table).not.toContain(self);
        const perRange = new Map<number, number>();
        for (const j of table) {
          const cpl = sharedPrefixLength(ids[j], ids[self]);
          perRange.set(cpl, (perRange.get(cpl) ?? 0) + 1);
        }
        for (let cpl = 0; cpl < 40; cpl++) {
          const inRange = ids.filter((id) => sharedPrefixLength(id, ids[self]) === cpl).length;
          expect(perRange.get(cpl) ?? 0).toBe(Math.min(20, inRange));
        }
      }),
      { numRuns: 20 },
    );
  });

  it('always holds the true 20 closest to its own ID, as a converged node does', () => {
    for (const self of [0, 1_234, 2_999]) {
      const table = new Set(tableOf({ ids, self, splitRelaxation: DEFAULTS.splitRelaxation, seed: 1 }));
      const closest = ids
        .map((_, j) => j)
        .filter((j) => j !== self)
        .sort((a, b) => compareDistance(ids[self], ids[a], ids[b]))
        .slice(0, 20);
      for (const j of closest) expect(table.has(j)).toBe(true);
    }
  });

  it('fits a real RoutingTable entirely: every contact is admitted, none goes to the replacement cache', () => {
    for (const splitRelaxation of [1, DEFAULTS.splitRelaxation]) {
      const self = 42;
      const table = tableOf({ ids, self, splitRelaxation, seed: 3 });
      const routing = new RoutingTable({ localId: ids[self], now: () => 0 });
      table.forEach((j, n) =>
        routing.observe({
          id: ids[j],
          publicKey: new Uint8Array(32),
          host: `10.${n >> 8}.${n & 255}.1`,
          port: 1,
        }),
      );
      expect(routing.size()).toBe(table.length);
      expect(routing.bucketInfo().every((b) => b.replacements === 0)).toBe(true);
    }
  });

  it('fills every bucket of the relaxed-split structure, so it holds more than the paper table', () => {
    const paper = tableOf({ ids, self: 9, splitRelaxation: 1, seed: 5 });
    const full = tableOf({ ids, self: 9, splitRelaxation: DEFAULTS.splitRelaxation, seed: 5 });
    expect(full.length).toBeGreaterThan(2 * paper.length);
  });

  it('is the same table for the same seed', () => {
    expect(tableOf({ ids, self: 5, splitRelaxation: 5, seed: 9 })).toEqual(
      tableOf({ ids, self: 5, splitRelaxation: 5, seed: 9 }),
    );
  });
});
