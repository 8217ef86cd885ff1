import fc from 'fast-check';
import { MemoryNetwork, VirtualClock, compareDistance, type NodeId } from '../../libs/kademlia/src';
import { createRandom } from '../../libs/kademlia/src/sim/random';
import { ConvergedNetwork } from './converged-network';
import { runLookupSample, trueClosest } from './lookup-sample';

const idArb = fc.uint8Array({ minLength: 20, maxLength: 20 });

describe('trueClosest', () => {
  it('equals a full sort by XOR distance, without the excluded node', () => {
    fc.assert(
      fc.property(fc.array(idArb, { minLength: 1, maxLength: 60 }), idArb, fc.nat(), (ids, target, pick) => {
        const exclude = pick % ids.length;
        const expected = ids
          .filter((_, i) => i !== exclude)
          .sort((a, b) => compareDistance(target, a, b))
          .slice(0, 20);
        expect(trueClosest({ ids, target, k: 20, exclude })).toEqual(expected);
      }),
    );
  });
});

describe('runLookupSample over a converged network', () => {
  it('returns the true 20 closest for every lookup of a 400-node network whose tables were admitted whole', async () => {
    const clock = new VirtualClock();
    const random = createRandom(1);
    const network = new MemoryNetwork({ clock, random, latencyMs: () => 5 + random() * 45 });
    const nodes = new ConvergedNetwork({ size: 400, tableModel: 'paper', seed: 2, clock, network });
    const sample = await runLookupSample({ nodes, clock, lookups: 20, concurrency: 5, seed: 3 });

    expect(sample.records).toHaveLength(20);
    expect(sample.records.every((r) => r.exact && r.finishReason === 'converged')).toBe(true);
    for (const r of sample.records) expect(r.messages).toBeGreaterThanOrEqual(20);
    const stats = nodes.stats();
    expect(stats.notAdmitted).toBe(0);
    expect(stats.droppedWhileBuilding).toBe(0);
    expect(stats.nodesBuilt).toBeGreaterThan(20);
    expect(stats.nodesBuilt).toBeLessThanOrEqual(400);
    await nodes.stop();
  });

  it('gives every node the same identity for the same seed', () => {
    const make = () => {
      const clock = new VirtualClock();
      return new ConvergedNetwork({
        size: 100,
        tableModel: 'full',
        seed: 9,
        clock,
        network: new MemoryNetwork({ clock }),
      });
    };
    const ids = (n: ConvergedNetwork): NodeId[] => n.ids;
    expect(ids(make())).toEqual(ids(make()));
  });
});
