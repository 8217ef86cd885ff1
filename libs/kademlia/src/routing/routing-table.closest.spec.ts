import fc from 'fast-check';
import { compareDistance, idToHex, randomId, type NodeId } from '../id/node-id';
import { RoutingTable, type RoutingEntry } from './routing-table';
import {
  arbAdversarialIds,
  arbLocalId,
  arbTarget,
  ContactFactory,
  FakeClock,
  hexOf,
  idAtPrefixLength,
  idFromBits,
} from './test/routing-fixtures';

/** The O(N) reference: every live entry, sorted by distance. */
function oracle(
  table: RoutingTable,
  query: { target: NodeId; n: number; filter?: (e: RoutingEntry) => boolean },
) {
  return [...table.entries()]
    .filter(query.filter ?? (() => true))
    .sort((a, b) => compareDistance(query.target, a.id, b.id))
    .slice(0, query.n);
}

function buildTable(options: {
  localId: NodeId;
  ids: NodeId[];
  k: number;
  splitRelaxation: number;
}): RoutingTable {
  const clock = new FakeClock();
  const contacts = new ContactFactory();
  const table = new RoutingTable({ ...options, now: clock.now });
  for (const id of options.ids) {
    table.observe(contacts.contact(id));
    clock.advance(1);
  }
  return table;
}

describe('RoutingTable.closest', () => {
  const localId = idFromBits('');

  it('returns nothing from an empty table or for n = 0', () => {
    const table = buildTable({ localId, ids: [], k: 20, splitRelaxation: 5 });
    expect(table.closest(randomId(), 20)).toEqual([]);
    table.observe(new ContactFactory().contact(idFromBits('1')));
    expect(table.closest(randomId(), 0)).toEqual([]);
    expect(table.closest(randomId(), -3)).toEqual([]);
    expect(table.closest(randomId(), Number.NaN)).toEqual([]);
  });

  it('returns every entry, nearest first, when n exceeds the table', () => {
    const ids = ['1', '01', '001', '111', '0001'].map((bits) => idFromBits(bits));
    const table = buildTable({ localId, ids, k: 2, splitRelaxation: 5 });
    expect(hexOf(table.closest(idFromBits('11'), 100))).toEqual(
      ['111', '1', '01', '0001', '001'].map((bits) => idToHex(idFromBits(bits))),
    );
    expect(table.closest(localId, Infinity)).toHaveLength(5);
  });

  it('puts an entry first when it is the target itself, and honours the filter', () => {
    const ids = Array.from({ length: 50 }, () => randomId());
    const table = buildTable({ localId, ids, k: 20, splitRelaxation: 5 });
    expect(idToHex(table.closest(ids[7], 1)[0].id)).toBe(idToHex(ids[7]));
    const notSeven = table.closest(ids[7], 5, (e) => idToHex(e.id) !== idToHex(ids[7]));
    expect(hexOf(notSeven)).not.toContain(idToHex(ids[7]));
    expect(notSeven).toHaveLength(5);
  });

  it('equals the brute-force oracle on adversarial tables, targets, n and filters', () => {
    fc.assert(
      fc.property(
        arbLocalId().chain((local) =>
          fc.record({
            localId: fc.constant(local),
            ids: arbAdversarialIds(local, { maxLength: 300 }),
            targets: fc.array(arbTarget(local), { minLength: 1, maxLength: 5 }),
            k: fc.constantFrom(1, 2, 3, 8, 20),
            splitRelaxation: fc.constantFrom(1, 2, 5),
            n: fc.integer({ min: 0, max: 60 }),
            filterSalt: fc.option(fc.integer({ min: 0, max: 255 })),
          }),
        ),
        ({ localId: local, ids, targets, k, splitRelaxation, n, filterSalt }) => {
          const table = buildTable({ localId: local, ids, k, splitRelaxation });
          const filter =
            filterSalt === null ? undefined : (e: RoutingEntry) => ((e.id[19] ^ filterSalt) & 3) !== 0;
          for (const target of targets) {
            expect(hexOf(table.closest(target, n, filter))).toEqual(
              hexOf(oracle(table, { target, n, filter })),
            );
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('looks at no more than n + k - 1 entries: whole buckets in distance order, then stops', () => {
    fc.assert(
      fc.property(
        fc.record({
          ids: arbAdversarialIds(localId, { maxLength: 400 }),
          target: arbTarget(localId),
          n: fc.integer({ min: 1, max: 40 }),
        }),
        ({ ids, target, n }) => {
          const k = 8;
          const table = buildTable({ localId, ids, k, splitRelaxation: 5 });
          let looked = 0;
          table.closest(target, n, () => ++looked > 0);
          expect(looked).toBeLessThanOrEqual(n + k - 1);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('finds the nearest entries in a table with deep own-side buckets', () => {
    const ids = Array.from({ length: 160 }, (_, cpl) =>
      idAtPrefixLength(localId, cpl, new Uint8Array([cpl])),
    );
    const table = buildTable({ localId, ids, k: 3, splitRelaxation: 5 });
    const target = idAtPrefixLength(localId, 150);
    expect(hexOf(table.closest(target, 20))).toEqual(hexOf(oracle(table, { target, n: 20 })));
  });
});
