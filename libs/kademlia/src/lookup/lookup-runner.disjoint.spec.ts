import { idToHex } from '../id/node-id';
import { runLookup, streamLookup, type LookupProgress } from './lookup-runner';
import { capture, hexes, K, setup } from './test/fake-lookup-network';

/**
 * The runner driving S/Kademlia disjoint paths (`paths` > 1, the node's secure mode) over the fake network of
 * test/fake-lookup-network.ts: same result, progress, budget, deadline and abort semantics as one path, plus
 * which path asked each node and each path's own outcome.
 */
const D = 4;

describe('runLookup with disjoint paths', () => {
  it('finds the true k closest with 4 paths, tags every answer with the path that asked, and never asks a node twice', async () => {
    const { clock, net, options, newTarget } = setup(11);
    for (let round = 0; round < 5; round++) {
      const target = newTarget();
      const firstRequest = net.log.length;
      const answers: LookupProgress[] = [];
      const outcome = await clock.runUntilSettled(
        runLookup(
          options({
            target,
            paths: D,
            seeds: net.pick(12, () => true).map((p) => p.contact),
            onProgress: (progress) => void answers.push(progress),
          }),
        ),
      );

      expect(outcome.finishReason).toBe('converged');
      expect(hexes(outcome.closest)).toEqual(hexes(net.trueClosest(target)));
      const asked = net.log.slice(firstRequest).map((r) => idToHex(r.to.contact.id));
      expect(new Set(asked).size).toBe(asked.length);
      expect(outcome.paths).toHaveLength(D);
      // Each path's result holds only nodes that path asked, so the per-path results are disjoint.
      const pathOf = new Map(answers.map((a) => [idToHex(a.from.id), a.path]));
      outcome.paths.forEach((path, index) => {
        for (const id of hexes(path.closest)) expect(pathOf.get(id)).toBe(index);
      });
      expect(new Set(answers.map((a) => a.path))).toEqual(new Set([0, 1, 2, 3]));
      const sum = (field: 'requests' | 'responses' | 'failures') =>
        outcome.paths.reduce((total, path) => total + path[field], 0);
      expect(sum('requests')).toBe(outcome.requests);
      expect(sum('responses')).toBe(outcome.responses);
      expect(sum('failures')).toBe(outcome.failures);
      expect(outcome.maxHops).toBe(Math.max(...outcome.paths.map((p) => p.maxHops)));
      expect(clock.pending()).toBe(0);
    }
  });

  it('with paths: 1 sends exactly what the single-path lookup sends, all tagged path 0', async () => {
    const run = async (paths: number | undefined) => {
      const { clock, net, options, newTarget } = setup(5);
      const progress: number[] = [];
      const outcome = await clock.runUntilSettled(
        runLookup(options({ target: newTarget(), paths, onProgress: (p) => void progress.push(p.path) })),
      );
      return { outcome, progress, asked: net.log.map((r) => idToHex(r.to.contact.id)) };
    };
    const plain = await run(undefined);
    const one = await run(1);
    expect(one.asked).toEqual(plain.asked);
    expect(hexes(one.outcome.closest)).toEqual(hexes(plain.outcome.closest));
    expect(new Set(one.progress)).toEqual(new Set([0]));
    expect(one.outcome.paths).toEqual([
      {
        closest: one.outcome.closest,
        requests: one.outcome.requests,
        responses: one.outcome.responses,
        failures: one.outcome.failures,
        maxHops: one.outcome.maxHops,
      },
    ]);
  });

  it('applies maxRpcs to each path: with a budget of 3 every path sends at most 3', async () => {
    const { clock, net, options, newTarget } = setup();
    const outcome = await clock.runUntilSettled(
      runLookup(
        options({
          target: newTarget(),
          paths: D,
          maxRpcs: 3,
          seeds: net.pick(8, () => true).map((p) => p.contact),
        }),
      ),
    );
    expect(outcome.finishReason).toBe('budget');
    for (const path of outcome.paths) expect(path.requests).toBeLessThanOrEqual(3);
    expect(net.log.length).toBe(outcome.requests);
    expect(outcome.requests).toBeLessThanOrEqual(3 * D);
  });

  it("stops every path when onProgress says 'stop' and aborts what is still in flight", async () => {
    const { clock, net, options, newTarget } = setup();
    let answers = 0;
    const outcome = await clock.runUntilSettled(
      runLookup(
        options({
          target: newTarget(),
          paths: D,
          seeds: net.pick(8, () => true).map((p) => p.contact),
          onProgress: () => (++answers === 5 ? 'stop' : undefined),
        }),
      ),
    );
    expect(outcome.finishReason).toBe('stopped');
    expect(outcome.responses).toBe(5);
    expect(net.log.filter((r) => r.end === undefined)).toHaveLength(0);
    expect(net.log.some((r) => r.end === 'aborted')).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it("resolves at the deadline with 'deadline' and rejects LOOKUP_ABORTED on abort, as one path does", async () => {
    const { clock, net, options, newTarget } = setup();
    const seeds = net.pick(8, () => true);
    for (const peer of net.peers) {
      if (seeds.includes(peer)) continue;
      peer.kind = 'slow';
      peer.latencyMs = 5_000;
    }
    const atDeadline = await clock.runUntilSettled(
      runLookup(
        options({ target: newTarget(), paths: D, seeds: seeds.map((p) => p.contact), deadlineMs: 1_000 }),
      ),
    );
    expect(atDeadline.finishReason).toBe('deadline');
    expect(atDeadline.durationMs).toBe(1_000);
    expect(hexes(atDeadline.closest).sort()).toEqual(hexes(seeds.map((p) => p.contact)).sort());

    const controller = new AbortController();
    const aborted = capture(
      runLookup(
        options({
          target: newTarget(),
          paths: D,
          seeds: seeds.map((p) => p.contact),
          signal: controller.signal,
        }),
      ),
    );
    await clock.advance(100);
    controller.abort();
    const settled = await aborted;
    expect(!settled.ok && settled.error).toMatchObject({ code: 'LOOKUP_ABORTED' });
    expect(net.log.filter((r) => r.end === undefined)).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });

  it.each([0, -1, 2.5, Number.NaN])(
    'rejects paths = %p with CONFIG_INVALID, sending nothing',
    async (paths) => {
      const { net, options, newTarget } = setup();
      const result = await capture(runLookup(options({ target: newTarget(), paths })));
      expect(!result.ok && result.error).toMatchObject({ code: 'CONFIG_INVALID' });
      expect(net.log).toHaveLength(0);
    },
  );

  it('streams path-tagged answers and returns the per-path outcome', async () => {
    const { clock, options, newTarget } = setup();
    const consume = async () => {
      const paths: number[] = [];
      const iterator = streamLookup(options({ target: newTarget(), paths: 2 }));
      for (;;) {
        const step = await iterator.next();
        if (step.done) return { paths, outcome: step.value };
        paths.push(step.value.path);
      }
    };
    const { paths, outcome } = await clock.runUntilSettled(consume());
    // A path that converged leaves its farther requests in flight while the others go on; their answers are
    // still streamed (a late VALUE is still a value) but no longer counted in that path's responses.
    expect(paths.length).toBeGreaterThanOrEqual(outcome.responses);
    expect(new Set(paths)).toEqual(new Set([0, 1]));
    outcome.paths.forEach((path, index) =>
      expect(paths.filter((p) => p === index).length).toBeGreaterThanOrEqual(path.responses),
    );
    expect(outcome.closest.length).toBe(K);
    expect(clock.pending()).toBe(0);
  });
});
