/** Handshakes are counted over windows this long; the threshold is per window, i.e. per second. */
const WINDOW_MS = 1_000;

/**
 * Decides when the responder demands cookies: while the new handshakes of the current or the previous
 * one-second window reach the threshold. Looking one window back keeps cookie mode on for at least a second
 * once it starts, so a steady flood cannot slip `threshold` DH operations through at each window start.
 */
export class HandshakeLoad {
  private windowStart: number;
  private count = 0;
  private previousCount = 0;

  constructor(
    private readonly now: () => number,
    private readonly threshold: number,
  ) {
    this.windowStart = now();
  }

  /** One INIT that would need key agreement arrived (counted whether or not we then do it). */
  note(): void {
    this.roll();
    this.count++;
  }

  isHigh(): boolean {
    this.roll();
    return this.count > this.threshold || this.previousCount > this.threshold;
  }

  private roll(): void {
    const now = this.now();
    const elapsed = now - this.windowStart;
    if (elapsed < WINDOW_MS) return;
    this.previousCount = elapsed < 2 * WINDOW_MS ? this.count : 0;
    this.count = 0;
    this.windowStart = now - (elapsed % WINDOW_MS);
  }
}
