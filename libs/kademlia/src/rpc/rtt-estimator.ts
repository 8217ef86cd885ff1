import { LruMap } from '../collections/lru-map';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';

export interface TimeoutBounds {
  readonly initialTimeoutMs: number;
  readonly minTimeoutMs: number;
  readonly maxTimeoutMs: number;
}

/** RFC 6298 §2 gains: SRTT follows 1/8 of each new sample, RTTVAR 1/4 of each deviation. */
const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;
/** RFC 6298's G: our clock reads milliseconds, so the variance term is never below 1 ms. */
const CLOCK_GRANULARITY_MS = 1;

/**
 * One peer's retransmission timeout, RFC 6298 style: smoothed RTT plus four deviations, clamped to
 * [minTimeoutMs, maxTimeoutMs], doubled after each timeout until a fresh sample arrives (§5.5).
 * Callers feed only samples from first attempts (Karn's rule): a reply to a resend is ambiguous.
 */
export class RttEstimator {
  private smoothed: number | undefined;
  private variation: number | undefined;
  private sampleCount = 0;
  private backoffs = 0;

  constructor(private readonly bounds: TimeoutBounds) {
    checkBounds(bounds);
  }

  get srtt(): number | undefined {
    return this.smoothed;
  }

  get rttvar(): number | undefined {
    return this.variation;
  }

  get samples(): number {
    return this.sampleCount;
  }

  /** Feeds one measured round trip; nonsense (negative, NaN, infinite) is ignored rather than poisoning the mean. */
  sample(rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    if (this.smoothed === undefined || this.variation === undefined) {
      this.smoothed = rttMs;
      this.variation = rttMs / 2;
    } else {
      // RTTVAR first: it measures the deviation from the SRTT before this sample moves it (§2.3).
      this.variation = (1 - BETA) * this.variation + BETA * Math.abs(this.smoothed - rttMs);
      this.smoothed = (1 - ALPHA) * this.smoothed + ALPHA * rttMs;
    }
    this.sampleCount++;
    this.backoffs = 0;
  }

  /** The peer did not answer in time: back off until it does. */
  onTimeout(): void {
    // Once at the ceiling more doublings change nothing; stopping keeps 2^n finite.
    if (this.timeoutMs() < this.bounds.maxTimeoutMs) this.backoffs++;
  }

  timeoutMs(): number {
    const { initialTimeoutMs, minTimeoutMs, maxTimeoutMs } = this.bounds;
    const base =
      this.smoothed === undefined || this.variation === undefined
        ? initialTimeoutMs
        : this.smoothed + Math.max(CLOCK_GRANULARITY_MS, K * this.variation);
    const clamped = Math.min(maxTimeoutMs, Math.max(minTimeoutMs, base));
    return Math.min(maxTimeoutMs, clamped * 2 ** this.backoffs);
  }
}

export interface PeerTimeoutsOptions extends Partial<TimeoutBounds> {
  /** Peers whose estimate is kept; the least recently used is forgotten beyond this. */
  readonly maxPeers?: number;
  /** Recent samples (from any peer) behind medianRttMs(). */
  readonly medianWindow?: number;
}

/**
 * Per-peer timeouts for the RPC layer, keyed by whatever names a peer (the RPC engine uses ip:port),
 * plus the median RTT across recent samples, which lookups use as their short timeout.
 * Bounded: an LRU of estimators and a fixed ring of samples.
 */
export class PeerTimeouts {
  private readonly bounds: TimeoutBounds;
  private readonly peers: LruMap<string, RttEstimator>;
  private readonly recent: Float64Array;
  private recentCount = 0;
  private recentNext = 0;
  private cachedMedian: number | undefined;
  private medianStale = false;

  constructor(options: PeerTimeoutsOptions = {}) {
    this.bounds = {
      initialTimeoutMs: options.initialTimeoutMs ?? DEFAULTS.initialTimeoutMs,
      minTimeoutMs: options.minTimeoutMs ?? DEFAULTS.minTimeoutMs,
      maxTimeoutMs: options.maxTimeoutMs ?? DEFAULTS.maxTimeoutMs,
    };
    checkBounds(this.bounds);
    this.peers = new LruMap(options.maxPeers ?? DEFAULTS.rttCacheSize);
    const window = options.medianWindow ?? DEFAULTS.rttMedianWindow;
    if (!Number.isInteger(window) || window < 1) {
      throw new KademliaError(`medianWindow must be a positive integer: ${window}`, 'CONFIG_INVALID');
    }
    this.recent = new Float64Array(window);
  }

  get size(): number {
    return this.peers.size;
  }

  /** The peer's current timeout; a peer never measured gets initialTimeoutMs (and no entry). */
  timeoutFor(peerKey: string): number {
    return this.peers.get(peerKey)?.timeoutMs() ?? this.bounds.initialTimeoutMs;
  }

  sample(peerKey: string, rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    this.estimatorFor(peerKey).sample(rttMs);
    this.recent[this.recentNext] = rttMs;
    this.recentNext = (this.recentNext + 1) % this.recent.length;
    this.recentCount = Math.min(this.recentCount + 1, this.recent.length);
    this.medianStale = true;
  }

  onTimeout(peerKey: string): void {
    this.estimatorFor(peerKey).onTimeout();
  }

  /** The peer's estimator, if one is kept; does not refresh its recency. */
  estimator(peerKey: string): RttEstimator | undefined {
    return this.peers.peek(peerKey);
  }

  /** Median of the most recent samples across all peers (the upper median for an even count). */
  medianRttMs(): number | undefined {
    if (this.recentCount === 0) return undefined;
    if (this.medianStale) {
      const sorted = this.recent.slice(0, this.recentCount).sort();
      this.cachedMedian = sorted[this.recentCount >> 1];
      this.medianStale = false;
    }
    return this.cachedMedian;
  }

  private estimatorFor(peerKey: string): RttEstimator {
    let estimator = this.peers.get(peerKey);
    if (!estimator) {
      estimator = new RttEstimator(this.bounds);
      this.peers.set(peerKey, estimator);
    }
    return estimator;
  }
}

function checkBounds(bounds: TimeoutBounds): void {
  const { initialTimeoutMs, minTimeoutMs, maxTimeoutMs } = bounds;
  if (!(minTimeoutMs > 0 && minTimeoutMs <= maxTimeoutMs && initialTimeoutMs > 0)) {
    throw new KademliaError(
      `timeouts need 0 < minTimeoutMs <= maxTimeoutMs and initialTimeoutMs > 0: ${JSON.stringify(bounds)}`,
      'CONFIG_INVALID',
    );
  }
}
