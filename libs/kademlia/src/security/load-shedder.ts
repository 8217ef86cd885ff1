import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { ReasonCounter } from '../metrics/metrics';

/** Inbound work the shedder ranks; a handshake is a new session, the others are requests. */
export type ShedKind = 'store' | 'find_value' | 'find_node' | 'handshake' | 'ping';

/** 0: nothing shed. Each level sheds one more class of work, cheapest to lose first. */
export type LoadLevel = 0 | 1 | 2 | 3 | 4;

/** Which measurement put the node at its current level. */
export type LoadCause = 'event_loop' | 'queue';

export type ShedReason = 'shed_event_loop' | 'shed_queue';

export interface LoadSample {
  /** Event-loop lag in ms (the probe reports the mean since its last sample). */
  readonly eventLoopDelayMs: number;
  /** Work waiting or in flight (e.g. RPC requests in flight); compared with queueCapacity. */
  readonly queueDepth: number;
}

export interface LoadLevelChange {
  readonly from: LoadLevel;
  readonly to: LoadLevel;
  readonly cause: LoadCause;
  readonly sample: LoadSample;
}

export interface LoadShedderOptions {
  now: () => number;
  /** What queueDepth is measured against; defaults to the node's in-flight request limit. */
  queueCapacity?: number;
  /** Lag (ms) at which levels 1..4 start, ascending. */
  eventLoopThresholdsMs?: readonly number[];
  /** Shares of queueCapacity at which levels 1..4 start, ascending. */
  queueFractions?: readonly number[];
  /** A level is kept until load falls below this share of its thresholds. */
  fallRatio?: number;
  /** Load must stay in the lower band this long before the level steps down by one. */
  coolDownMs?: number;
  /** The level changed (the node emits 'loadShed'). Must not throw. */
  onLevelChange?: (change: LoadLevelChange) => void;
}

export interface LoadShedderStats {
  readonly level: LoadLevel;
  readonly cause: LoadCause | undefined;
  readonly levelChanges: number;
  readonly shed: Record<ShedKind, number>;
  readonly shedTotal: number;
}

const KINDS: readonly ShedKind[] = ['store', 'find_value', 'find_node', 'handshake', 'ping'];

/**
 * The lowest level at which a kind of work is shed, cheapest loss first (DESIGN "Abuse resistance"):
 * STOREs can be retried against the other k-1 replicas; FIND_VALUE next; then work for strangers — their
 * FIND_NODEs and new handshakes (the session layer answers with cookies instead); then everything but
 * PINGs of known peers. Those are never shed: they are the cheapest message we answer, and answering them is
 * what keeps us in our peers' routing tables through the overload. Past level 4 the kernel's socket buffer
 * drops for us.
 */
function shedFromLevel(kind: ShedKind, knownPeer: boolean): number {
  switch (kind) {
    case 'store':
      return 1;
    case 'find_value':
      return 2;
    case 'handshake':
      return 3;
    case 'find_node':
      return knownPeer ? 4 : 3;
    case 'ping':
      return knownPeer ? Infinity : 4;
  }
}

/**
 * Decides what inbound work to drop when the node is overloaded, from event-loop lag and queue depth.
 * The level rises at once when a sample crosses a threshold (overload is urgent) and falls one step at a time
 * only after load has stayed below fallRatio × threshold for coolDownMs, so load hovering at a threshold
 * does not flap the level. Sans-IO: the node feeds samples (see createEventLoopProbe) and asks per request.
 */
export class LoadShedder {
  private readonly now: () => number;
  private readonly lagThresholds: readonly number[];
  private readonly queueThresholds: readonly number[];
  private readonly fallRatio: number;
  private readonly coolDownMs: number;
  private readonly onLevelChange: (change: LoadLevelChange) => void;
  private readonly shedCounts = new ReasonCounter<ShedKind>();
  private current: LoadLevel = 0;
  private currentCause: LoadCause | undefined;
  private belowSinceMs: number | undefined;
  private levelChanges = 0;

  constructor(options: LoadShedderOptions) {
    this.now = options.now;
    const capacity = options.queueCapacity ?? DEFAULTS.maxInflightRequests;
    if (!Number.isFinite(capacity) || capacity <= 0)
      throw new KademliaError(`queueCapacity must be positive: ${capacity}`, 'CONFIG_INVALID');
    this.lagThresholds = ascending(
      'eventLoopThresholdsMs',
      options.eventLoopThresholdsMs ?? DEFAULTS.shedEventLoopDelayMs,
    );
    this.queueThresholds = ascending(
      'queueFractions',
      options.queueFractions ?? DEFAULTS.shedQueueFractions,
    ).map((fraction) => fraction * capacity);
    this.fallRatio = options.fallRatio ?? DEFAULTS.shedFallRatio;
    if (!(this.fallRatio > 0 && this.fallRatio <= 1))
      throw new KademliaError(`fallRatio must be in (0, 1]: ${this.fallRatio}`, 'CONFIG_INVALID');
    this.coolDownMs = options.coolDownMs ?? DEFAULTS.shedCoolDownMs;
    if (!Number.isFinite(this.coolDownMs) || this.coolDownMs < 0)
      throw new KademliaError(`coolDownMs must be >= 0: ${this.coolDownMs}`, 'CONFIG_INVALID');
    this.onLevelChange = options.onLevelChange ?? (() => undefined);
  }

  get level(): LoadLevel {
    return this.current;
  }

  get cause(): LoadCause | undefined {
    return this.currentCause;
  }

  /** New handshakes get a cookie challenge instead of a key exchange (they are shed from level 3). */
  get cookieMode(): boolean {
    return this.current >= shedFromLevel('handshake', false);
  }

  /** Background refreshes and republishing wait: they create work we would then have to shed. */
  get pauseMaintenance(): boolean {
    return this.current >= 2;
  }

  /** Feeds one measurement; returns the level after it. A sample with a non-finite field is ignored. */
  update(sample: LoadSample): LoadLevel {
    const { eventLoopDelayMs: lag, queueDepth: depth } = sample;
    if (!Number.isFinite(lag) || !Number.isFinite(depth)) return this.current;
    const lagLevel = levelOf(lag, this.lagThresholds, 1);
    const queueLevel = levelOf(depth, this.queueThresholds, 1);
    const target = Math.max(lagLevel, queueLevel) as LoadLevel;
    if (target > this.current) {
      this.belowSinceMs = undefined;
      this.setLevel(target, lagLevel >= queueLevel ? 'event_loop' : 'queue', sample);
      return this.current;
    }
    const lagHold = levelOf(lag, this.lagThresholds, this.fallRatio);
    const queueHold = levelOf(depth, this.queueThresholds, this.fallRatio);
    if (Math.max(lagHold, queueHold) >= this.current) {
      this.belowSinceMs = undefined;
      return this.current;
    }
    const nowMs = this.now();
    if (this.belowSinceMs === undefined) {
      this.belowSinceMs = nowMs;
    } else if (nowMs - this.belowSinceMs >= this.coolDownMs) {
      // One step per cool-down: coming out of overload in stages shows whether the lower level holds.
      this.belowSinceMs = nowMs;
      this.setLevel((this.current - 1) as LoadLevel, lagHold >= queueHold ? 'event_loop' : 'queue', sample);
    }
    return this.current;
  }

  /** False to serve the request; otherwise why it is shed (counted by kind). */
  shouldShed(request: { kind: ShedKind; knownPeer: boolean }): false | ShedReason {
    if (this.current < shedFromLevel(request.kind, request.knownPeer)) return false;
    this.shedCounts.add(request.kind);
    return this.currentCause === 'queue' ? 'shed_queue' : 'shed_event_loop';
  }

  stats(): LoadShedderStats {
    return {
      level: this.current,
      cause: this.currentCause,
      levelChanges: this.levelChanges,
      shed: Object.fromEntries(KINDS.map((k) => [k, this.shedCounts.get(k)])) as Record<ShedKind, number>,
      shedTotal: this.shedCounts.total(),
    };
  }

  private setLevel(to: LoadLevel, cause: LoadCause, sample: LoadSample): void {
    const from = this.current;
    this.current = to;
    this.currentCause = to === 0 ? undefined : cause;
    this.levelChanges++;
    this.onLevelChange({ from, to, cause, sample: { ...sample } });
  }
}

/** How many thresholds (scaled) the value reaches: 0..thresholds.length. */
function levelOf(value: number, thresholds: readonly number[], scale: number): number {
  let level = 0;
  while (level < thresholds.length && value >= thresholds[level] * scale) level++;
  return level;
}

function ascending(name: string, values: readonly number[]): readonly number[] {
  const ok =
    values.length === 4 &&
    values.every((v, i) => Number.isFinite(v) && v > 0 && (i === 0 || v > values[i - 1]));
  if (!ok)
    throw new KademliaError(
      `${name} must be 4 ascending positive numbers: ${values.join(',')}`,
      'CONFIG_INVALID',
    );
  return [...values];
}

export interface EventLoopProbe {
  /** Mean event-loop lag in ms since the previous sample; 0 when no tick was measured. */
  sample(): number;
  /** Stops measuring; sample() returns 0 afterwards. Safe to call twice. */
  stop(): void;
}

/**
 * Wraps perf_hooks.monitorEventLoopDelay. Its histogram records each tick's whole interval (resolution
 * plus lag), so the resolution is subtracted to report lag alone. The mean over a 1 s sample reflects
 * sustained lag, not a single GC pause: a tail percentile of ~100 ticks is set by one or two slow ticks, and
 * shed honest work (STOREs for seconds of cool-down) after every major GC (measured: a p99 probe put nodes of
 * a 25-node loopback test at level 1-2 four times in one store round; the mean did not).
 */
export function createEventLoopProbe(options: { resolutionMs?: number } = {}): EventLoopProbe {
  const resolutionMs = options.resolutionMs ?? DEFAULTS.eventLoopResolutionMs;
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  let stopped = false;
  return {
    sample() {
      if (stopped || histogram.count === 0) return 0;
      const lagMs = Math.max(0, histogram.mean / 1e6 - resolutionMs);
      histogram.reset();
      return lagMs;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      histogram.disable();
    },
  };
}
