import { idToHex } from '../id/node-id';
import { runLookup, streamLookup, type LookupRunOptions } from './lookup-runner';
import { capture, FakeNetwork, hexes, K, setup, SLOW_AFTER_MS } from './test/fake-lookup-network';

/**
 * The lookup runner against the fake network of test/fake-lookup-network.ts (seeded, virtual time).
 */
describe('runLookup', () => {
  it('finds the true k closest live nodes and reports its requests, responses, failures and hops', async () => {
    const { clock, net, options, newTarget } = setup();
    net.peers.forEach((p, i) => {
      if (i % 10 === 0) p.kind = 'dead';
    });
    for (let round = 0; round < 10; round++) {
      const target = newTarget();
      const firstRequest = net.log.length;
      const dead = net.pick(1, (p) => p.kind === 'dead');
      const live = net.pick(2, (p) => p.kind !== 'dead');
      let answers = 0;

      const outcome = await clock.runUntilSettled(
        runLookup(
          options({
            target,
            seeds: [...dead, ...live].map((p) => p.contact),
            onProgress: () => void answers++,
          }),
        ),
      );

      const sent = net.log.slice(firstRequest);
      expect(outcome.finishReason).toBe('converged');
      expect(hexes(outcome.closest)).toEqual(hexes(net.trueClosest(target)));
      expect(outcome.requests).toBe(sent.length);
      expect(outcome.responses).toBe(answers);
      // An answer or timeout in the same virtual millisecond as convergence comes too late to count.
      expect(outcome.responses).toBeLessThanOrEqual(sent.filter((r) => r.end === 'answered').length);
      expect(outcome.failures).toBeLessThanOrEqual(sent.filter((r) => r.end === 'timeout').length);
      expect(outcome.failures).toBeGreaterThanOrEqual(1); // the dead seed
      expect(outcome.responses + outcome.failures).toBeLessThanOrEqual(outcome.requests);
      expect(sent.filter((r) => r.end === undefined)).toHaveLength(0);
      expect(outcome.maxHops).toBeGreaterThanOrEqual(2);
      expect(outcome.maxHops).toBeLessThanOrEqual(outcome.responses);
      expect(outcome.target).toBe(target);
      expect(outcome.kind).toBe('node');
      expect(clock.pending()).toBe(0);
    }
  });

  it("finishes with 'exhausted' at once when it has no seeds", async () => {
    const { clock, net, options, newTarget } = setup();
    const outcome = await clock.runUntilSettled(runLookup(options({ target: newTarget(), seeds: [] })));
    expect(outcome).toMatchObject({ finishReason: 'exhausted', closest: [], requests: 0, durationMs: 0 });
    expect(net.log).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });

  it("finishes with 'budget' once maxRpcs requests were sent and answered", async () => {
    const { clock, net, options, newTarget } = setup();
    const outcome = await clock.runUntilSettled(runLookup(options({ target: newTarget(), maxRpcs: 4 })));
    expect(outcome.finishReason).toBe('budget');
    expect(outcome.requests).toBe(4);
    expect(net.log).toHaveLength(4);
    expect(outcome.closest.length).toBeGreaterThan(0);
  });

  it("resolves at the deadline with finishReason 'deadline' and what it had, aborting the requests in flight", async () => {
    const { clock, net, options, newTarget } = setup();
    const seeds = net.pick(3, () => true);
    for (const peer of net.peers) {
      if (seeds.includes(peer)) continue;
      peer.kind = 'slow';
      peer.latencyMs = 5_000;
    }
    const outcome = await clock.runUntilSettled(
      runLookup(options({ target: newTarget(), seeds: seeds.map((p) => p.contact), deadlineMs: 1_000 })),
    );

    expect(outcome.finishReason).toBe('deadline');
    expect(outcome.durationMs).toBe(1_000);
    expect(hexes(outcome.closest).sort()).toEqual(hexes(seeds.map((p) => p.contact)).sort());
    const unanswered = net.log.filter((r) => r.end !== 'answered');
    expect(unanswered.length).toBeGreaterThan(0);
    expect(unanswered.every((r) => r.end === 'aborted' && r.signal?.aborted)).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it('rejects with LOOKUP_ABORTED when the signal was aborted before it started, sending nothing', async () => {
    const { clock, net, options, newTarget } = setup();
    const controller = new AbortController();
    controller.abort();
    const result = await capture(runLookup(options({ target: newTarget(), signal: controller.signal })));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatchObject({ code: 'LOOKUP_ABORTED' });
    expect(net.log).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });

  it('rejects with LOOKUP_ABORTED when aborted mid-way, aborting its requests and leaving no timer behind', async () => {
    const { clock, net, options, newTarget } = setup();
    const controller = new AbortController();
    const result = capture(runLookup(options({ target: newTarget(), signal: controller.signal })));
    await clock.advance(60);
    expect(net.log.length).toBeGreaterThan(3);
    controller.abort();

    const settled = await result;
    expect(settled.ok).toBe(false);
    expect(!settled.ok && settled.error).toMatchObject({ code: 'LOOKUP_ABORTED' });
    const inFlight = net.log.filter((r) => r.end !== 'answered');
    expect(inFlight.length).toBeGreaterThan(0);
    expect(inFlight.every((r) => r.end === 'aborted' && r.signal?.aborted)).toBe(true);
    expect(clock.pending()).toBe(0);
    const sentBeforeAbort = net.log.length;
    await clock.advance(10_000);
    expect(net.log).toHaveLength(sentBeforeAbort);
  });

  it("finishes with 'stopped' when onProgress returns 'stop', ignoring later answers", async () => {
    const { clock, net, options, newTarget } = setup();
    let answers = 0;
    const outcome = await clock.runUntilSettled(
      runLookup(options({ target: newTarget(), onProgress: () => (++answers === 3 ? 'stop' : undefined) })),
    );
    expect(outcome.finishReason).toBe('stopped');
    expect(outcome.responses).toBe(3);
    expect(answers).toBe(3);
    expect(net.log.filter((r) => r.end === undefined)).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });

  describe("failures in the caller's callbacks", () => {
    /** Runs the lookup until it settles and checks that it ended right away, with nothing left running. */
    async function expectFailsAtOnce(
      overrides: (net: FakeNetwork) => Partial<LookupRunOptions>,
      error: unknown,
    ) {
      const { clock, net, options, newTarget } = setup();
      const deadlineMs = 10_000;
      const result = await clock.runUntilSettled(
        capture(runLookup(options({ target: newTarget(), deadlineMs, ...overrides(net) }))),
      );
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toBe(error);
      // Not at the deadline: a callback that throws ends the lookup, it does not stall it.
      expect(clock.now()).toBeLessThan(deadlineMs);
      expect(net.log.filter((r) => r.end === undefined)).toHaveLength(0);
      expect(clock.pending()).toBe(0);
    }

    it('rejects with the error onProgress throws, aborting the requests in flight', async () => {
      const bug = new Error('progress handler bug');
      await expectFailsAtOnce(
        () => ({
          onProgress: () => {
            throw bug;
          },
        }),
        bug,
      );
    });

    it('rejects with the error request() throws synchronously', async () => {
      const bug = new Error('request bug');
      let calls = 0;
      await expectFailsAtOnce(
        (net) => ({
          request: (to, body, requestOptions) => {
            if (++calls === 5) throw bug;
            return net.request(to, body, requestOptions);
          },
        }),
        bug,
      );
    });

    it('rejects with the error slowAfterMs throws', async () => {
      const bug = new Error('slowAfterMs bug');
      await expectFailsAtOnce(
        () => ({
          slowAfterMs: () => {
            throw bug;
          },
        }),
        bug,
      );
    });

    it('rejects with CONFIG_INVALID for invalid options instead of throwing synchronously', async () => {
      const { options, newTarget } = setup();
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = runLookup(options({ target: newTarget(), k: 0 }));
      }).not.toThrow();
      const result = await capture(promise!);
      expect(!result.ok && result.error).toMatchObject({ code: 'CONFIG_INVALID' });
    });
  });

  describe('slow peers', () => {
    /** Two slow peers just outside the true k closest are the nearest seeds, so they take both alpha slots. */
    function slowSeedsOutsideTopK() {
      const { clock, net, options, newTarget } = setup();
      const target = newTarget();
      const ranked = net.ranked(target);
      const slow = ranked.slice(K, K + 2);
      for (const peer of slow) {
        peer.kind = 'slow';
        peer.latencyMs = 5_000;
      }
      const far = net.pick(2, (p) => !ranked.slice(0, 4 * K).includes(p));
      const run = (slowAfterMs: number) =>
        clock.runUntilSettled(
          runLookup(
            options({
              target,
              alpha: 2,
              seeds: [...slow, ...far].map((p) => p.contact),
              slowAfterMs: () => slowAfterMs,
            }),
          ),
        );
      return { net, target, slow, run };
    }

    it('does not wait for slow peers outside the k closest: onSlow frees their alpha slots', async () => {
      const { net, target, slow, run } = slowSeedsOutsideTopK();
      const outcome = await run(SLOW_AFTER_MS);

      expect(net.log.slice(0, 2).map((r) => r.to)).toEqual(slow);
      expect(outcome.finishReason).toBe('converged');
      expect(hexes(outcome.closest)).toEqual(hexes(net.trueClosest(target)));
      expect(outcome.durationMs).toBeLessThan(1_000);
      const toSlow = net.log.filter((r) => slow.includes(r.to));
      expect(toSlow.map((r) => r.end)).toEqual(['aborted', 'aborted']);
    });

    it('waits for the slow peers when their requests never count as slow (the contrast)', async () => {
      const { net, target, run } = slowSeedsOutsideTopK();
      const outcome = await run(60_000);
      expect(outcome.finishReason).toBe('converged');
      expect(hexes(outcome.closest)).toEqual(hexes(net.trueClosest(target)));
      expect(outcome.durationMs).toBeGreaterThanOrEqual(5_000);
    });

    it('waits for a slow peer that is among the k closest and returns it', async () => {
      const { clock, net, options, newTarget } = setup();
      const target = newTarget();
      const nearest = net.ranked(target)[0];
      nearest.kind = 'slow';
      nearest.latencyMs = 3_000;
      const outcome = await clock.runUntilSettled(runLookup(options({ target })));

      expect(outcome.finishReason).toBe('converged');
      expect(outcome.durationMs).toBeGreaterThanOrEqual(3_000);
      expect(hexes(outcome.closest)).toEqual(hexes(net.trueClosest(target)));
      expect(idToHex(outcome.closest[0].id)).toBe(idToHex(nearest.contact.id));
    });
  });
});

describe('streamLookup', () => {
  it('yields each answer as it arrives, then returns the outcome', async () => {
    const { clock, net, options, newTarget } = setup();
    const target = newTarget();
    const consume = async () => {
      const seen: string[] = [];
      const iterator = streamLookup(options({ target }));
      for (;;) {
        const step = await iterator.next();
        if (step.done) return { seen, outcome: step.value };
        expect(idToHex(step.value.reply.from.id)).toBe(idToHex(step.value.from.id));
        seen.push(idToHex(step.value.from.id));
      }
    };
    const { seen, outcome } = await clock.runUntilSettled(consume());

    expect(seen).toEqual(net.answeredBy.map((p) => idToHex(p.contact.id)));
    expect(seen).toHaveLength(outcome.responses);
    expect(outcome.finishReason).toBe('converged');
    expect(hexes(outcome.closest)).toEqual(hexes(net.trueClosest(target)));
    expect(clock.pending()).toBe(0);
  });

  it('aborts the lookup and its requests when the loop is left early', async () => {
    const { clock, net, options, newTarget } = setup();
    const consume = async () => {
      let seen = 0;
      for await (const _progress of streamLookup(options({ target: newTarget() }))) {
        if (++seen === 2) break;
      }
      return seen;
    };
    expect(await clock.runUntilSettled(consume())).toBe(2);

    const inFlight = net.log.filter((r) => r.end !== 'answered');
    expect(inFlight.length).toBeGreaterThan(0);
    expect(inFlight.every((r) => r.end === 'aborted' && r.signal?.aborted)).toBe(true);
    expect(clock.pending()).toBe(0);
    const sent = net.log.length;
    await clock.advance(10_000);
    expect(net.log).toHaveLength(sent);
  });

  it("throws LOOKUP_ABORTED from the loop when the caller's signal aborts", async () => {
    const { clock, options, newTarget } = setup();
    const controller = new AbortController();
    const consume = async () => {
      for await (const _progress of streamLookup(
        options({ target: newTarget(), signal: controller.signal }),
      )) {
        controller.abort();
      }
    };
    const result = await capture(clock.runUntilSettled(consume()));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatchObject({ code: 'LOOKUP_ABORTED' });
    expect(clock.pending()).toBe(0);
  });
});
