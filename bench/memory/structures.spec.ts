import { sharedPrefixLength } from '../../libs/kademlia/src';
import { createRandom } from '../../libs/kademlia/src/sim/random';
import { STRUCTURES, structureNamed } from './structures';
import { ENTRIES_PER_TABLE, entryHost, idInRange } from './table-fill';

describe('memory benchmark structures', () => {
  it.each(STRUCTURES.filter((s) => s.prepare).map((s) => s.name))(
    '%s holds every entry it is given (two full tables)',
    async (name) => {
      const filler = await structureNamed(name).prepare!(2 * ENTRIES_PER_TABLE);
      const { entries, keep } = await filler.fill();
      expect(entries).toBe(2 * ENTRIES_PER_TABLE);
      expect(keep).toBeDefined();
    },
  );

  it('measures the bootstrap buffer against its 64-byte target and probes closest()', async () => {
    const buffer = structureNamed('kadfleet-bootstrap-buffer');
    expect(buffer.targetBytesPerEntry).toBe(64);
    const { probe } = await buffer.prepare!(1_000).then((filler) => filler.fill());
    expect(probe?.().closestReturned).toBe(20);
  });

  it('places each generated ID in the distance range it is meant for', () => {
    const random = createRandom(1);
    for (const length of [20, 32]) {
      const local = new Uint8Array(length).map(() => Math.floor(random() * 256));
      for (let cpl = 0; cpl < 16; cpl++) {
        const id = idInRange({ local, cpl, random });
        expect(id.length).toBe(length);
        expect(sharedPrefixLength(id.subarray(0, 20), local.subarray(0, 20))).toBe(cpl);
      }
    }
  });

  it('gives every entry of a table its own /24', () => {
    const groups = new Set(
      Array.from({ length: ENTRIES_PER_TABLE }, (_, j) => entryHost(7, j).split('.').slice(0, 3).join('.')),
    );
    expect(groups.size).toBe(ENTRIES_PER_TABLE);
  });
});
