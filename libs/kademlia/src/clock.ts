/**
 * Time as the library sees it. Real nodes use the system clock; the simulator passes a virtual one so
 * that 10,000-node networks run in seconds and every test is deterministic.
 */
export interface TimerHandle {
  /** Lets the process exit while this timer is pending (real timers only; a no-op in simulation). */
  unref?(): void;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
