import fc from 'fast-check';
import { isKademliaError } from '../errors';
import { VirtualClock } from './virtual-clock';

/** Resolves after `ms` of virtual time, the way library code awaits a delay. */
function sleep(clock: VirtualClock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

describe('VirtualClock', () => {
  it('starts at startMs and does not move on its own', async () => {
    const clock = new VirtualClock({ startMs: 1_000 });
    let fired = false;
    clock.setTimeout(() => (fired = true), 10);
    await new Promise((resolve) => setImmediate(resolve));
    expect(clock.now()).toBe(1_000);
    expect(fired).toBe(false);
    expect(clock.pending()).toBe(1);
  });

  it('runs timers in due-time order and sees now() equal to each due time', async () => {
    const clock = new VirtualClock();
    const seen: Array<[string, number]> = [];
    clock.setTimeout(() => seen.push(['c', clock.now()]), 30);
    clock.setTimeout(() => seen.push(['a', clock.now()]), 10);
    clock.setTimeout(() => seen.push(['b', clock.now()]), 20);
    await clock.advance(100);
    expect(seen).toEqual([
      ['a', 10],
      ['b', 20],
      ['c', 30],
    ]);
    expect(clock.now()).toBe(100);
    expect(clock.pending()).toBe(0);
    expect(clock.eventsRun()).toBe(3);
  });

  it('runs timers due at the same time first-in, first-out', async () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    for (let i = 0; i < 50; i++) clock.setTimeout(() => seen.push(i), 5);
    await clock.advance(5);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('orders any set of timers by (due, insertion)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), async (delays) => {
        const clock = new VirtualClock();
        const seen: number[] = [];
        delays.forEach((delay, i) => clock.setTimeout(() => seen.push(i), delay));
        await clock.advance(20);
        const expected = delays
          .map((delay, i) => ({ delay, i }))
          .sort((a, b) => a.delay - b.delay || a.i - b.i);
        expect(seen).toEqual(expected.map((entry) => entry.i));
      }),
      { numRuns: 50 },
    );
  });

  it('advance stops at the horizon and leaves later timers pending', async () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(1), 10);
    clock.setTimeout(() => seen.push(2), 11);
    await clock.advance(10);
    expect(seen).toEqual([1]);
    expect(clock.now()).toBe(10);
    expect(clock.pending()).toBe(1);
    await clock.advance(1);
    expect(seen).toEqual([1, 2]);
  });

  it('treats negative and NaN delays as zero', async () => {
    const clock = new VirtualClock({ startMs: 5 });
    const seen: string[] = [];
    clock.setTimeout(() => seen.push('negative'), -10);
    clock.setTimeout(() => seen.push('nan'), Number.NaN);
    await clock.advance(0);
    expect(seen).toEqual(['negative', 'nan']);
    expect(clock.now()).toBe(5);
  });

  it('never runs a cleared timer, and clearing twice or after firing changes nothing', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    const keep = clock.setTimeout(() => seen.push('keep'), 10);
    const drop = clock.setTimeout(() => seen.push('drop'), 5);
    clock.clearTimeout(drop);
    clock.clearTimeout(drop);
    expect(clock.pending()).toBe(1);
    await clock.advance(20);
    clock.clearTimeout(keep);
    clock.clearTimeout({});
    expect(seen).toEqual(['keep']);
    expect(clock.pending()).toBe(0);
  });

  it('gives handles a harmless unref()', () => {
    const clock = new VirtualClock();
    const handle = clock.setTimeout(() => undefined, 1);
    expect(() => handle.unref?.()).not.toThrow();
  });

  it('keeps order correct when many cancelled timers are swept out of the heap', async () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    const handles = [];
    for (let i = 0; i < 5_000; i++) handles.push(clock.setTimeout(() => seen.push(i), 5_000 - i));
    for (let i = 0; i < 5_000; i++) if (i % 7 !== 0) clock.clearTimeout(handles[i]);
    const survivors = Array.from({ length: 5_000 }, (_, i) => i).filter((i) => i % 7 === 0);
    expect(clock.pending()).toBe(survivors.length);
    await clock.advance(10_000);
    expect(seen).toEqual([...survivors].reverse());
  });

  it('follows async continuation chains: a timer resolves a promise whose continuation schedules the next', async () => {
    const clock = new VirtualClock();
    const steps: Array<[number, number]> = [];
    const chain = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) {
        await sleep(clock, 10);
        await Promise.resolve(); // extra hops must not lose the next timer
        steps.push([i, clock.now()]);
      }
    };
    void chain();
    await clock.advance(50);
    expect(steps).toEqual([
      [0, 10],
      [1, 20],
      [2, 30],
      [3, 40],
      [4, 50],
    ]);
  });

  it('runs a continuation-scheduled zero-delay timer at the same virtual time', async () => {
    const clock = new VirtualClock();
    const times: number[] = [];
    void (async () => {
      await sleep(clock, 10);
      await sleep(clock, 0);
      times.push(clock.now());
    })();
    await clock.advance(10);
    expect(times).toEqual([10]);
  });

  it('runUntilSettled returns the value of a promise driven by timers', async () => {
    const clock = new VirtualClock();
    const work = (async () => {
      await sleep(clock, 1_000);
      await sleep(clock, 500);
      return 'done';
    })();
    await expect(clock.runUntilSettled(work)).resolves.toBe('done');
    expect(clock.now()).toBe(1_500);
  });

  it('runUntilSettled rethrows the rejection of the promise', async () => {
    const clock = new VirtualClock();
    const work = (async () => {
      await sleep(clock, 10);
      throw new Error('boom');
    })();
    await expect(clock.runUntilSettled(work)).rejects.toThrow('boom');
  });

  it('runUntilSettled throws SIM_STALLED when the queue empties first', async () => {
    const clock = new VirtualClock();
    clock.setTimeout(() => undefined, 10);
    const never = new Promise<void>(() => undefined);
    const err = await clock.runUntilSettled(never).catch((e: unknown) => e);
    expect(isKademliaError(err, 'SIM_STALLED')).toBe(true);
    expect((err as { details: { reason: string } }).details.reason).toBe('queue-empty');
    expect(clock.now()).toBe(10);
  });

  it('runUntilSettled honours maxTimeMs and maxEvents', async () => {
    const clock = new VirtualClock();
    const tick = (): void => void clock.setTimeout(tick, 100);
    tick(); // a periodic task that never ends, like node maintenance
    const never = new Promise<void>(() => undefined);

    const byTime = await clock.runUntilSettled(never, { maxTimeMs: 1_000 }).catch((e: unknown) => e);
    expect(isKademliaError(byTime, 'SIM_STALLED')).toBe(true);
    expect(clock.now()).toBe(1_000);

    const before = clock.eventsRun();
    const byEvents = await clock.runUntilSettled(never, { maxEvents: 25 }).catch((e: unknown) => e);
    expect((byEvents as { details: { reason: string } }).details.reason).toBe('max-events');
    expect(clock.eventsRun() - before).toBe(25);
  });

  it('runUntil reports whether the predicate came true', async () => {
    const clock = new VirtualClock();
    let count = 0;
    const tick = (): void => {
      count++;
      clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    await expect(clock.runUntil(() => count >= 3)).resolves.toBe(true);
    expect(clock.now()).toBe(30);
    await expect(clock.runUntil(() => count >= 100, { maxTimeMs: 50 })).resolves.toBe(false);
    expect(clock.now()).toBe(80);
    expect(count).toBe(8);
    await expect(clock.runUntil(() => true)).resolves.toBe(true);
    expect(clock.now()).toBe(80);
  });

  it('runUntil returns false when nothing is left to run', async () => {
    const clock = new VirtualClock();
    await expect(clock.runUntil(() => false)).resolves.toBe(false);
  });

  it('refuses a second driver while one is running', async () => {
    const clock = new VirtualClock();
    clock.setTimeout(() => undefined, 10);
    const first = clock.advance(10);
    const second = clock.advance(10).catch((e: unknown) => e);
    expect(isKademliaError(await second, 'SIM_REENTRANT')).toBe(true);
    await first;
    expect(clock.now()).toBe(10);
  });

  it('surfaces an exception thrown by a timer callback and can continue afterwards', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    clock.setTimeout(() => {
      throw new Error('bug in callback');
    }, 5);
    clock.setTimeout(() => seen.push('later'), 6);
    await expect(clock.advance(10)).rejects.toThrow('bug in callback');
    await clock.advance(10);
    expect(seen).toEqual(['later']);
  });

  it('gives the same event order on every run of the same program', async () => {
    const trace = async (): Promise<string[]> => {
      const clock = new VirtualClock();
      const out: string[] = [];
      for (let worker = 0; worker < 5; worker++) {
        void (async () => {
          for (let step = 0; step < 20; step++) {
            await sleep(clock, ((worker * 7 + step * 3) % 11) + 1);
            out.push(`${worker}:${step}@${clock.now()}`);
          }
        })();
      }
      await clock.runUntil(() => out.length === 100);
      return out;
    };
    expect(await trace()).toEqual(await trace());
  });
});
