import fc from 'fast-check';
import { idToHex, type NodeId } from '../id/node-id';
import { ContactBuffer } from './contact-buffer';
import { ContactMaker, FakeTime, oracleClosest } from './test/buffer-fixtures';

type Op =
  | { kind: 'offer'; i: number }
  | { kind: 'verify'; i: number }
  | { kind: 'fail'; i: number }
  | { kind: 'sweep'; max: number; advanceMs: number };

const arbId = fc.uint8Array({ minLength: 20, maxLength: 20 });

/** IDs in a few tight clusters: long shared prefixes, tails differing in the last bits only. */
const arbClusteredIds = (n: number): fc.Arbitrary<NodeId[]> =>
  fc
    .tuple(
      fc.array(fc.record({ prefix: arbId, bits: fc.integer({ min: 0, max: 159 }) }), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.array(fc.tuple(fc.nat(), arbId), { minLength: n, maxLength: n }),
    )
    .map(([clusters, picks]) =>
      picks.map(([pick, tail]) => {
        const { prefix, bits } = clusters[pick % clusters.length];
        const id = new Uint8Array(tail);
        for (let b = 0; b < bits; b++) {
          const mask = 0x80 >> (b & 7);
          id[b >> 3] = (id[b >> 3] & ~mask) | (prefix[b >> 3] & mask);
        }
        return id;
      }),
    );

const arbIds = (n: number) =>
  fc.oneof(fc.array(arbId, { minLength: n, maxLength: n }), arbClusteredIds(n)).map(dedupe);

function dedupe(ids: NodeId[]): NodeId[] {
  const seen = new Set<string>();
  return ids.filter((id) => !seen.has(idToHex(id)) && seen.add(idToHex(id)));
}

const arbOps = (n: number): fc.Arbitrary<Op[]> => {
  const i = fc.integer({ min: 0, max: n - 1 });
  return fc.array(
    fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('offer' as const), i }) },
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('verify' as const), i }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('fail' as const), i }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('sweep' as const),
          max: fc.integer({ min: 1, max: 20 }),
          advanceMs: fc.integer({ min: 0, max: 2 * 60 * 60_000 }),
        }),
      },
    ),
    { minLength: 1, maxLength: 400 },
  );
};

describe('ContactBuffer.closest() against a brute-force oracle', () => {
  it('returns exactly the XOR-closest verified (or all held) contacts after any mix of offers, verifications, failures and sweeps', () => {
    fc.assert(
      fc.property(
        arbIds(120),
        arbOps(120),
        fc.array(arbId, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 8, max: 150 }),
        fc.integer({ min: 2, max: 12 }),
        (ids, ops, targets, count, capacity, stagingSize) => {
          const time = new FakeTime();
          const buffer = new ContactBuffer({
            now: time.now,
            capacity,
            stagingSize,
            reverifyAfterMs: 60_000,
            limitExempt: ['0.0.0.0/0'],
            seed: 7,
          });
          const maker = new ContactMaker(3);
          const contacts = ids.map((id, n) => maker.withId(id, n));
          for (const op of ops) {
            if (op.kind === 'sweep') {
              time.advance(op.advanceMs);
              for (const task of buffer.nextToVerify(op.max)) buffer.release(task);
              continue;
            }
            const contact = contacts[op.i % contacts.length];
            if (op.kind === 'offer') buffer.offer(contact);
            else if (op.kind === 'verify') buffer.markVerified(contact);
            else buffer.markFailed(contact);
          }
          const verified = ids.filter((id) => buffer.stateOf(id) === 'verified');
          const held = ids.filter((id) => buffer.stateOf(id) !== undefined);
          expect(buffer.size).toBe(held.length);
          expect(buffer.size).toBeLessThanOrEqual(capacity);
          expect(buffer.stats().verified).toBe(verified.length);
          for (const target of [...targets, ...held.slice(0, 2)]) {
            const got = buffer.closest(target, count).map((c) => idToHex(c.id));
            expect(got).toEqual(oracleClosest(verified, target, count).map(idToHex));
            const gotAll = buffer.closest(target, count, { filter: 'all' }).map((c) => idToHex(c.id));
            expect(gotAll).toEqual(oracleClosest(held, target, count).map(idToHex));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('is exact over thousands of entries spread between the sorted store and the staging area', () => {
    const time = new FakeTime();
    const buffer = new ContactBuffer({ now: time.now, capacity: 5_000, stagingSize: 300, seed: 1 });
    const maker = new ContactMaker(11);
    const contacts = Array.from({ length: 4_000 }, (_, i) => maker.contact(i));
    for (const contact of contacts) {
      buffer.offer(contact);
      buffer.markVerified(contact);
    }
    // Some removed (tombstones in the sorted store), some left pending, some staged-verified.
    for (const contact of contacts.slice(0, 400)) {
      buffer.markFailed(contact);
      buffer.markFailed(contact);
    }
    const verified = contacts.slice(400).map((c) => c.id);
    expect(buffer.stats().verified).toBe(verified.length);
    for (let t = 0; t < 50; t++) {
      const target = maker.bytes(20);
      expect(buffer.closest(target, 20).map((c) => idToHex(c.id))).toEqual(
        oracleClosest(verified, target, 20).map(idToHex),
      );
    }
  });
});
