import { VirtualClock } from '../sim/virtual-clock';
import { PeriodicTasks, type PeriodicTask } from './periodic-tasks';

const TICK = 100;

/** A task whose runs are recorded with their virtual start time; each run can be held open by the test. */
function recordingTask(
  clock: VirtualClock,
  options: { name: string; everyMs: number; runAtStart?: boolean },
) {
  const starts: number[] = [];
  const pending: Array<() => void> = [];
  let hold = false;
  const task: PeriodicTask = {
    ...options,
    run: () => {
      starts.push(clock.now());
      if (!hold) return undefined;
      return new Promise<void>((resolve) => pending.push(resolve));
    },
  };
  return {
    task,
    starts,
    holdRuns: (value: boolean) => (hold = value),
    finishRuns: () => pending.splice(0).forEach((resolve) => resolve()),
  };
}

function setup(tasks: PeriodicTask[]) {
  const clock = new VirtualClock();
  const errors: Array<{ task: string; err: unknown }> = [];
  const periodic = new PeriodicTasks({
    clock,
    tickMs: TICK,
    tasks,
    onError: (task, err) => errors.push({ task, err }),
  });
  return { clock, periodic, errors };
}

describe('PeriodicTasks', () => {
  it('runs each task once per period, checked at tick granularity', async () => {
    const clock = new VirtualClock();
    const fast = recordingTask(clock, { name: 'fast', everyMs: 300 });
    const slow = recordingTask(clock, { name: 'slow', everyMs: 1000 });
    const periodic = new PeriodicTasks({ clock, tickMs: TICK, tasks: [fast.task, slow.task], onError: fail });
    periodic.start();
    await clock.advance(2000);
    expect(fast.starts).toEqual([300, 600, 900, 1200, 1500, 1800]);
    expect(slow.starts).toEqual([1000, 2000]);
    await periodic.stop();
  });

  it('rounds periods that are not a multiple of the tick up to the next tick', async () => {
    const clock = new VirtualClock();
    const odd = recordingTask(clock, { name: 'odd', everyMs: 250 });
    const periodic = new PeriodicTasks({ clock, tickMs: TICK, tasks: [odd.task], onError: fail });
    periodic.start();
    await clock.advance(1000);
    expect(odd.starts).toEqual([300, 600, 900]);
    await periodic.stop();
  });

  it('runs a runAtStart task on the first tick', async () => {
    const clock = new VirtualClock();
    const eager = recordingTask(clock, { name: 'eager', everyMs: 1000, runAtStart: true });
    const lazy = recordingTask(clock, { name: 'lazy', everyMs: 1000 });
    const periodic = new PeriodicTasks({
      clock,
      tickMs: TICK,
      tasks: [eager.task, lazy.task],
      onError: fail,
    });
    periodic.start();
    await clock.advance(1100);
    expect(eager.starts).toEqual([100, 1100]);
    expect(lazy.starts).toEqual([1000]);
    await periodic.stop();
  });

  it('never overlaps a task with itself, and runs it again once the slow run ends', async () => {
    const clock = new VirtualClock();
    const slow = recordingTask(clock, { name: 'slow', everyMs: 200 });
    const other = recordingTask(clock, { name: 'other', everyMs: 200 });
    const periodic = new PeriodicTasks({
      clock,
      tickMs: TICK,
      tasks: [slow.task, other.task],
      onError: fail,
    });
    slow.holdRuns(true);
    periodic.start();
    await clock.advance(1000);
    // The first run is still going: no second one started, while the other task kept its pace.
    expect(slow.starts).toEqual([200]);
    expect(other.starts).toEqual([200, 400, 600, 800, 1000]);
    slow.holdRuns(false);
    slow.finishRuns();
    await clock.advance(TICK);
    expect(slow.starts).toEqual([200, 1100]);
    await periodic.stop();
  });

  it('reports errors (thrown or rejected) to onError and keeps ticking', async () => {
    let calls = 0;
    const tasks: PeriodicTask[] = [
      {
        name: 'throws',
        everyMs: 100,
        run: () => {
          calls++;
          throw new Error('sync boom');
        },
      },
      { name: 'rejects', everyMs: 200, run: () => Promise.reject(new Error('async boom')) },
    ];
    const { clock, periodic, errors } = setup(tasks);
    periodic.start();
    await clock.advance(400);
    expect(calls).toBe(4);
    expect(errors.filter((e) => e.task === 'throws')).toHaveLength(4);
    expect(errors.filter((e) => e.task === 'rejects')).toHaveLength(2);
    expect((errors[0].err as Error).message).toBe('sync boom');
    expect(errors.find((e) => e.task === 'rejects')?.err).toEqual(new Error('async boom'));
    await periodic.stop();
  });

  it('survives an onError that throws: no unhandled rejection escapes and the task keeps its pace', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let runs = 0;
      const clock = new VirtualClock();
      const periodic = new PeriodicTasks({
        clock,
        tickMs: TICK,
        tasks: [
          {
            name: 'fails',
            everyMs: 100,
            run: () => {
              runs++;
              throw new Error('task failed');
            },
          },
        ],
        onError: () => {
          throw new Error('the error reporter itself failed');
        },
      });
      periodic.start();
      await clock.advance(300);
      // Node reports unhandled rejections once the microtask queue drains; give it that chance.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      expect(runs).toBe(3);
      await periodic.stop();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('stop() waits for running tasks and leaves no timer behind', async () => {
    const clock = new VirtualClock();
    const slow = recordingTask(clock, { name: 'slow', everyMs: 100 });
    const periodic = new PeriodicTasks({ clock, tickMs: TICK, tasks: [slow.task], onError: fail });
    slow.holdRuns(true);
    periodic.start();
    await clock.advance(100);
    expect(slow.starts).toEqual([100]);

    let stopped = false;
    const stopping = periodic.stop().then(() => (stopped = true));
    await clock.advance(1000);
    expect(stopped).toBe(false);
    expect(clock.pending()).toBe(0);

    slow.finishRuns();
    await stopping;
    expect(stopped).toBe(true);
    expect(clock.pending()).toBe(0);
    await clock.advance(10_000);
    expect(slow.starts).toEqual([100]);
  });

  it('does not report the error of a run that fails after stop()', async () => {
    let reject: (err: Error) => void = () => undefined;
    const { clock, periodic, errors } = setup([
      { name: 'late', everyMs: 100, run: () => new Promise((_, r) => (reject = r)) },
    ]);
    periodic.start();
    await clock.advance(100);
    const stopping = periodic.stop();
    reject(new Error('shutting down'));
    await stopping;
    expect(errors).toEqual([]);
  });

  it('stop() before start() and twice in a row is harmless', async () => {
    const { clock, periodic } = setup([{ name: 'noop', everyMs: 100, run: () => undefined }]);
    await periodic.stop();
    await periodic.stop();
    expect(clock.pending()).toBe(0);
  });

  it('holds exactly one timer while running, however many tasks there are', async () => {
    const tasks = Array.from({ length: 10 }, (_, i) => ({
      name: `t${i}`,
      everyMs: 100 * (i + 1),
      run: () => 0,
    }));
    const { clock, periodic } = setup(tasks);
    periodic.start();
    expect(clock.pending()).toBe(1);
    await clock.advance(5000);
    expect(clock.pending()).toBe(1);
    await periodic.stop();
    expect(clock.pending()).toBe(0);
  });
});

function fail(task: string, err: unknown): never {
  throw new Error(`unexpected error from ${task}: ${String(err)}`);
}
