import type { Clock, TimerHandle } from '../clock';

export interface PeriodicTask {
  readonly name: string;
  /** Minimum time between two runs. */
  readonly everyMs: number;
  /** Run on the first tick instead of waiting one period. */
  readonly runAtStart?: boolean;
  run(): Promise<unknown> | unknown;
}

export interface PeriodicTasksOptions {
  readonly clock: Clock;
  /** How often due tasks are checked; one timer serves every task. */
  readonly tickMs: number;
  readonly tasks: readonly PeriodicTask[];
  readonly onError: (task: string, err: unknown) => void;
}

/**
 * Runs the node's periodic work from one timer. A task never overlaps itself (a slow replication round is not
 * started twice), and errors go to onError instead of crashing the process. stop() waits for running tasks.
 */
export class PeriodicTasks {
  private timer?: TimerHandle;
  private readonly lastRun = new Map<string, number>();
  private readonly active = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(private readonly options: PeriodicTasksOptions) {}

  start(): void {
    const now = this.options.clock.now();
    for (const task of this.options.tasks) {
      this.lastRun.set(task.name, task.runAtStart ? -Infinity : now);
    }
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.active.values()]);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => this.tick(), this.options.tickMs);
    this.timer.unref?.();
  }

  private tick(): void {
    const now = this.options.clock.now();
    for (const task of this.options.tasks) {
      if (this.active.has(task.name)) continue;
      if (now - (this.lastRun.get(task.name) ?? now) < task.everyMs) continue;
      this.lastRun.set(task.name, now);
      const running = Promise.resolve()
        .then(() => task.run())
        .then(
          () => undefined,
          (err) => {
            if (this.stopped) return;
            try {
              this.options.onError(task.name, err);
            } catch {
              // A failing reporter (a logger whose sink is gone) has nowhere left to report to; letting it throw
              // here would become an unhandled rejection, which crashes the process under Node's defaults.
            }
          },
        )
        .finally(() => this.active.delete(task.name));
      this.active.set(task.name, running);
    }
    this.schedule();
  }
}
