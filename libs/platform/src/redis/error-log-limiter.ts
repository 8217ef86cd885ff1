/**
 * Lets one log line through per interval and counts the rest, so a Redis that stays down for an hour logs a
 * line every 30 s ("… and 57 more") instead of one per reconnect attempt.
 */
export class ErrorLogLimiter {
  private lastLoggedAt = -Infinity;
  private suppressed = 0;

  constructor(private readonly opts: { intervalMs: number; now?: () => number }) {}

  /** Returns the number of suppressed events since the last log when this one should be logged, else null. */
  admit(): number | null {
    const now = (this.opts.now ?? Date.now)();
    if (now - this.lastLoggedAt < this.opts.intervalMs) {
      this.suppressed++;
      return null;
    }
    const suppressed = this.suppressed;
    this.suppressed = 0;
    this.lastLoggedAt = now;
    return suppressed;
  }

  /** After a recovery the next failure is news again and must be logged at once. */
  reset(): void {
    this.lastLoggedAt = -Infinity;
    this.suppressed = 0;
  }
}
