import type { Clock, TimerHandle } from '../clock';
import { KademliaError } from '../errors';
import { TimerHeap, VirtualTimer } from './timer-heap';

export interface RunLimits {
  /** Virtual milliseconds the run may cover, counted from its start; unlimited by default. */
  maxTimeMs?: number;
  /** Timer callbacks the run may execute; unlimited by default. */
  maxEvents?: number;
}

export interface VirtualClockOptions {
  /** Virtual time at creation, in ms. */
  startMs?: number;
}

type RunOutcome = 'predicate' | 'queue-empty' | 'max-time' | 'max-events';

// Captured at load so that a test switching on jest's fake timers cannot stall the virtual clock.
const realSetImmediate = setImmediate;

/**
 * Resolves after every queued promise continuation has run: the event loop drains the whole microtask
 * queue, including continuations queued by continuations, before it reaches the next macrotask.
 */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

/** Below this many heap slots, cancelled timers are left for the top of the heap to discard. */
const COMPACT_MIN_SLOTS = 1024;

/**
 * Virtual time for the simulator and tests: nothing happens until a driver (`advance`, `runUntil`,
 * `runUntilSettled`) runs the timers in (due time, insertion) order. Code under test is async, so after
 * the timers of one timestamp the driver lets promise continuations run (they may schedule more
 * timers) before it looks at the queue again; it does so once per timestamp, not once per timer,
 * because simulations run millions of events. The same inputs always give the same run.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private live = 0;
  private executed = 0;
  private running = false;
  private readonly heap = new TimerHeap();

  constructor(options: VirtualClockOptions = {}) {
    this.current = options.startMs ?? 0;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    // Negative or NaN delays mean "as soon as possible", as with Node's timers.
    const delay = ms > 0 ? ms : 0;
    const timer = new VirtualTimer(this.current + delay, this.seq++, callback);
    this.heap.push(timer);
    this.live++;
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    if (!(handle instanceof VirtualTimer) || handle.state !== 'pending') return;
    handle.state = 'cancelled';
    this.live--;
    // Lookups cancel most of their request timeouts; without a sweep the heap would fill with them.
    if (this.heap.size > COMPACT_MIN_SLOTS && this.heap.size > 2 * this.live) this.heap.compact();
  }

  /** Timers scheduled and neither run nor cancelled. */
  pending(): number {
    return this.live;
  }

  /** Timer callbacks run since creation; the simulator's throughput measure. */
  eventsRun(): number {
    return this.executed;
  }

  /** Runs every timer due up to now + ms (including those scheduled meanwhile), then sets now to that time. */
  async advance(ms: number): Promise<void> {
    const until = this.current + Math.max(0, ms);
    await this.run({ until, maxEvents: Infinity });
    this.current = Math.max(this.current, until);
  }

  /**
   * Runs timers until `predicate` holds (checked before starting and after each timestamp's timers and
   * their continuations). False when the queue empties or a limit is reached first; on the time limit
   * the clock stops at exactly that time.
   */
  async runUntil(predicate: () => boolean, limits: RunLimits = {}): Promise<boolean> {
    const until = this.current + (limits.maxTimeMs ?? Infinity);
    const outcome = await this.run({ until, maxEvents: limits.maxEvents ?? Infinity, stop: predicate });
    if (outcome === 'max-time') this.current = Math.max(this.current, until);
    return outcome === 'predicate';
  }

  /**
   * Runs timers until `promise` settles and returns its value (or throws its error). Throws SIM_STALLED
   * when the queue empties or a limit is reached first: the promise would never settle on its own.
   */
  async runUntilSettled<T>(promise: Promise<T>, limits: RunLimits = {}): Promise<T> {
    let settled = false;
    const tracked = promise.then(
      (value) => {
        settled = true;
        return value;
      },
      (err: unknown) => {
        settled = true;
        throw err;
      },
    );
    // Observed here so a rejection is not reported as unhandled while the clock is still running.
    tracked.catch(() => undefined);
    const outcome = await this.run({
      until: this.current + (limits.maxTimeMs ?? Infinity),
      maxEvents: limits.maxEvents ?? Infinity,
      stop: () => settled,
    });
    if (!settled) {
      throw new KademliaError(
        `promise still pending at virtual time ${this.current} (${outcome})`,
        'SIM_STALLED',
        {
          reason: outcome,
          now: this.current,
          pending: this.live,
        },
      );
    }
    return tracked;
  }

  private async run(options: {
    until: number;
    maxEvents: number;
    stop?: () => boolean;
  }): Promise<RunOutcome> {
    if (this.running) {
      throw new KademliaError('a VirtualClock driver is already running', 'SIM_REENTRANT');
    }
    this.running = true;
    try {
      const { until, maxEvents, stop } = options;
      await flushMicrotasks();
      if (stop?.()) return 'predicate';
      let events = 0;
      while (true) {
        let next = this.nextLive();
        if (next === undefined) return 'queue-empty';
        if (next.due > until) return 'max-time';
        if (events >= maxEvents) return 'max-events';
        const due = next.due;
        this.current = due;
        // Every timer of this timestamp, including ones its callbacks add with a zero delay.
        do {
          this.heap.pop();
          next.state = 'fired';
          this.live--;
          this.executed++;
          events++;
          next.callback();
          next = events < maxEvents ? this.nextLive() : undefined;
        } while (next !== undefined && next.due === due);
        await flushMicrotasks();
        if (stop?.()) return 'predicate';
      }
    } finally {
      this.running = false;
    }
  }

  /** The earliest pending timer, discarding cancelled ones on the way. */
  private nextLive(): VirtualTimer | undefined {
    let top = this.heap.peek();
    while (top !== undefined && top.state !== 'pending') {
      this.heap.pop();
      top = this.heap.peek();
    }
    return top;
  }
}
