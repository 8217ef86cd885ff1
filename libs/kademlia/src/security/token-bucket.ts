import { KademliaError } from '../errors';

export interface TokenBucketOptions {
  /** Tokens added per second; the long-run rate the bucket admits. */
  readonly ratePerSecond: number;
  /** Most tokens the bucket holds: how large a burst it admits after a quiet spell. */
  readonly burst: number;
  /** The owner's clock reading when the bucket is created; a new bucket starts full. */
  readonly nowMs: number;
}

/**
 * A token bucket evaluated lazily: it stores the token count and when it was last brought up to date, and
 * adds `elapsed × rate` whenever it is asked. No timers, so a hundred thousand idle buckets cost only memory,
 * and the caller passes its clock's reading (sans-IO: tests drive time by hand).
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  private tokens: number;
  private updatedAt: number;

  constructor(options: TokenBucketOptions) {
    const { ratePerSecond, burst, nowMs } = options;
    if (!Number.isFinite(ratePerSecond) || ratePerSecond < 0)
      throw new KademliaError(`token bucket rate must be >= 0: ${ratePerSecond}`, 'CONFIG_INVALID');
    if (!Number.isFinite(burst) || burst <= 0)
      throw new KademliaError(`token bucket burst must be > 0: ${burst}`, 'CONFIG_INVALID');
    if (!Number.isFinite(nowMs))
      throw new KademliaError(`token bucket time must be finite: ${nowMs}`, 'CONFIG_INVALID');
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.tokens = burst;
    this.updatedAt = nowMs;
  }

  /** Takes `cost` tokens if the bucket holds that many; otherwise takes nothing and returns false. */
  tryTake(nowMs: number, cost = 1): boolean {
    this.refill(nowMs);
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /**
   * Gives back tokens taken for work that did not happen (a packet another limit dropped after this one
   * admitted it), so a source is not charged twice for one packet. Never fills beyond the burst.
   */
  refund(cost = 1): void {
    this.tokens = Math.min(this.burst, this.tokens + cost);
  }

  /** Tokens available now (fractional). */
  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  /** Milliseconds until `cost` tokens are available: 0 if they are now, Infinity if they never will be. */
  msUntil(nowMs: number, cost = 1): number {
    this.refill(nowMs);
    if (this.tokens >= cost) return 0;
    if (cost > this.burst || this.ratePerSecond === 0) return Infinity;
    return ((cost - this.tokens) * 1000) / this.ratePerSecond;
  }

  private refill(nowMs: number): void {
    // A clock reading older than the last one (another caller's stale `now`) adds nothing and does not move
    // the reference point back, so time can never be counted twice.
    const elapsed = nowMs - this.updatedAt;
    if (!(elapsed > 0)) return;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedAt = nowMs;
  }
}
