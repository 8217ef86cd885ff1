import { LruMap } from '../collections/lru-map';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { ReasonCounter } from '../metrics/metrics';

/** What a peer did that changes how much we trust it; the weights live in DEFAULTS.reputationWeights. */
export type ReputationEvent = keyof typeof DEFAULTS.reputationWeights;

export type ReputationWeights = Record<ReputationEvent, number>;

export interface ReputationBan {
  readonly peer: string;
  /** The score that crossed the threshold. */
  readonly score: number;
  readonly untilMs: number;
}

export interface PeerReputationOptions {
  now: () => number;
  halfLifeMs?: number;
  /** A score at or below this bans the peer for banMs. */
  banThreshold?: number;
  banMs?: number;
  maxScore?: number;
  minScore?: number;
  maxPeers?: number;
  /** Overrides single weights; the rest keep their defaults. */
  weights?: Partial<ReputationWeights>;
  /** A peer crossed the threshold (the node bans its host in the rate limiter too). Must not throw. */
  onBan?: (ban: ReputationBan) => void;
}

export interface ReputationStats {
  readonly trackedPeers: number;
  readonly bans: number;
  readonly events: Record<ReputationEvent, number>;
}

interface Entry {
  /** The score as of `atMs`; decay since then is applied on read. */
  score: number;
  atMs: number;
  bannedUntilMs: number;
}

const EVENTS = Object.keys(DEFAULTS.reputationWeights) as ReputationEvent[];

/**
 * A trust score per peer that decays exponentially toward 0 (half-life 30 min), computed lazily from the
 * clock on each read: good replies raise it, timeouts, forged tokens, bad signatures and junk lower it. Used
 * to order lookup candidates and break eviction ties, and to ban a peer whose score falls to the threshold.
 *
 * The key is the caller's choice; the node uses the peer's host (IP address) so that a peer cannot shed a bad
 * score by minting a new node ID, and so a ban lands on the key the rate limiter bans.
 * Bounded LRU: an evicted peer comes back at a neutral 0, which is where an unknown peer starts anyway.
 */
export class PeerReputation {
  private readonly now: () => number;
  private readonly halfLifeMs: number;
  private readonly banThreshold: number;
  private readonly banMs: number;
  private readonly maxScore: number;
  private readonly minScore: number;
  private readonly weights: ReputationWeights;
  private readonly onBan: (ban: ReputationBan) => void;
  private readonly peers: LruMap<string, Entry>;
  private readonly eventCounts = new ReasonCounter<ReputationEvent>();
  private bans = 0;

  constructor(options: PeerReputationOptions) {
    this.now = options.now;
    this.halfLifeMs = options.halfLifeMs ?? DEFAULTS.reputationHalfLifeMs;
    this.banThreshold = options.banThreshold ?? DEFAULTS.reputationBanThreshold;
    this.banMs = options.banMs ?? DEFAULTS.reputationBanMs;
    this.maxScore = options.maxScore ?? DEFAULTS.reputationMaxScore;
    this.minScore = options.minScore ?? DEFAULTS.reputationMinScore;
    this.weights = { ...DEFAULTS.reputationWeights, ...options.weights };
    this.onBan = options.onBan ?? (() => undefined);
    this.peers = new LruMap(options.maxPeers ?? DEFAULTS.reputationMaxPeers);
    this.validate();
  }

  /** Applies one event's weight and returns the peer's new score; may ban the peer. */
  record(peer: string, event: ReputationEvent): number {
    const weight = this.weights[event];
    if (typeof weight !== 'number') return this.score(peer);
    const nowMs = this.now();
    const entry = this.peers.get(peer);
    const before = entry ? this.decayed(entry, nowMs) : 0;
    const score = Math.min(this.maxScore, Math.max(this.minScore, before + weight));
    const bannedUntilMs = entry?.bannedUntilMs ?? 0;
    if (entry) {
      entry.score = score;
      entry.atMs = Math.max(entry.atMs, nowMs);
    } else {
      this.peers.set(peer, { score, atMs: nowMs, bannedUntilMs });
    }
    this.eventCounts.add(event);
    // Events that keep arriving during a ban do not re-ban (and re-notify); a ban is not extended by them.
    if (score <= this.banThreshold && bannedUntilMs <= nowMs) {
      const untilMs = nowMs + this.banMs;
      this.peers.peek(peer)!.bannedUntilMs = untilMs;
      this.bans++;
      this.onBan({ peer, score, untilMs });
    }
    return score;
  }

  /** The decayed score now; 0 for a peer we know nothing about. Reading does not keep an entry alive. */
  score(peer: string): number {
    const entry = this.peers.peek(peer);
    return entry ? this.decayed(entry, this.now()) : 0;
  }

  isBanned(peer: string): boolean {
    const entry = this.peers.peek(peer);
    return entry !== undefined && entry.bannedUntilMs > this.now();
  }

  /**
   * For Array.prototype.sort: the better-scored peer first, 0 on equal scores. Distance stays the primary
   * order in lookups; this breaks ties (and orders eviction candidates: the worst last).
   */
  compare(a: string, b: string): number {
    const nowMs = this.now();
    const entryA = this.peers.peek(a);
    const entryB = this.peers.peek(b);
    const scoreA = entryA ? this.decayed(entryA, nowMs) : 0;
    const scoreB = entryB ? this.decayed(entryB, nowMs) : 0;
    return scoreA === scoreB ? 0 : scoreA > scoreB ? -1 : 1;
  }

  forget(peer: string): boolean {
    return this.peers.delete(peer);
  }

  stats(): ReputationStats {
    return {
      trackedPeers: this.peers.size,
      bans: this.bans,
      events: Object.fromEntries(EVENTS.map((e) => [e, this.eventCounts.get(e)])) as Record<
        ReputationEvent,
        number
      >,
    };
  }

  /** score × 2^(-elapsed / halfLife); a clock reading older than the entry's decays nothing. */
  private decayed(entry: Entry, nowMs: number): number {
    const elapsed = nowMs - entry.atMs;
    if (!(elapsed > 0)) return entry.score;
    return entry.score * Math.pow(2, -elapsed / this.halfLifeMs);
  }

  private validate(): void {
    const fail = (message: string) => {
      throw new KademliaError(message, 'CONFIG_INVALID');
    };
    if (!(this.halfLifeMs > 0 && Number.isFinite(this.halfLifeMs)))
      fail(`halfLifeMs must be positive: ${this.halfLifeMs}`);
    if (!(this.banMs > 0 && Number.isFinite(this.banMs))) fail(`banMs must be positive: ${this.banMs}`);
    if (!(this.minScore <= this.banThreshold && this.banThreshold < 0 && this.maxScore > 0))
      fail(
        `need minScore <= banThreshold < 0 < maxScore: ${this.minScore}, ${this.banThreshold}, ${this.maxScore}`,
      );
    for (const event of EVENTS)
      if (!Number.isFinite(this.weights[event])) fail(`weight of ${event} must be a finite number`);
  }
}
