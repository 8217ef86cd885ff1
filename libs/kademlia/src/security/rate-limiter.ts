import { LruMap } from '../collections/lru-map';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { ReasonCounter } from '../metrics/metrics';
import { ipToBytes } from '../wire/ip-address';
import { TokenBucket } from './token-bucket';

/**
 * What an inbound datagram is charged against. Every datagram is a 'packet', checked before it is parsed;
 * a datagram that turns out to open a handshake, or to carry a STORE, is also checked against that budget.
 */
export type RateLimitKind = 'packet' | 'handshake' | 'store';

export type RateLimitReason = 'rate_ip' | 'rate_group' | 'banned' | 'rate_handshake' | 'rate_store';

export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly reason: RateLimitReason };

/** Who banned a source: its own flood, the reputation system, or an operator. */
export type BanReason = 'rate_limit' | 'reputation' | 'operator';

export interface BanEvent {
  /** The host whose traffic caused the ban (the first one, for an IPv6 /64). */
  readonly host: string;
  /** What is banned: the IPv4 address, or the IPv6 /64. */
  readonly source: string;
  readonly untilMs: number;
  readonly reason: BanReason;
}

export interface RateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export interface InboundRateLimiterOptions {
  now: () => number;
  perIp?: RateLimit;
  /** Shared by a /24 (IPv4) or /48 (IPv6). */
  perGroup?: RateLimit;
  /** Per source, on top of its packet budget. */
  handshakes?: RateLimit;
  /** Per source, on top of its packet budget. */
  stores?: RateLimit;
  maxTrackedIps?: number;
  maxTrackedGroups?: number;
  /** Drops counted toward a ban are counted over windows this long. */
  banWindowMs?: number;
  /** More per-source drops than this in one window bans the source for banMs. */
  banAfterDrops?: number;
  banMs?: number;
  maxBans?: number;
  /** The operator's fleet and monitoring: never limited, never banned. Called once per check. */
  isAllowListed?: (host: string) => boolean;
  /** A source was banned (not called when an existing ban is only extended). Must not throw. */
  onBan?: (event: BanEvent) => void;
}

export interface RateLimiterStats {
  readonly allowed: number;
  readonly allowListed: number;
  readonly dropped: Record<RateLimitReason, number>;
  readonly droppedTotal: number;
  readonly bans: Record<BanReason, number>;
  readonly activeBans: number;
  readonly trackedIps: number;
  readonly trackedGroups: number;
}

interface SourceState {
  readonly packets: TokenBucket;
  // Created on first use: most sources never handshake twice or STORE, and 100k sources must stay small.
  handshakes?: TokenBucket;
  stores?: TokenBucket;
  windowStartMs: number;
  windowDrops: number;
}

interface Ban {
  untilMs: number;
  reason: BanReason;
}

// Decisions are shared constants: check() runs for every datagram and must not allocate.
const ALLOW: RateDecision = Object.freeze({ ok: true });
const DENY: Readonly<Record<RateLimitReason, RateDecision>> = Object.freeze({
  rate_ip: Object.freeze({ ok: false, reason: 'rate_ip' }),
  rate_group: Object.freeze({ ok: false, reason: 'rate_group' }),
  banned: Object.freeze({ ok: false, reason: 'banned' }),
  rate_handshake: Object.freeze({ ok: false, reason: 'rate_handshake' }),
  rate_store: Object.freeze({ ok: false, reason: 'rate_store' }),
});
const REASONS: readonly RateLimitReason[] = Object.keys(DENY) as RateLimitReason[];
const BAN_REASONS: readonly BanReason[] = ['rate_limit', 'reputation', 'operator'];

/**
 * Inbound admission by source address: a token bucket per source and per /24 or /48, separate budgets for
 * handshakes and STOREs, and temporary bans for sources that keep exceeding their limit (libtorrent's
 * dos_blocker: a source that had more than banAfterDrops packets dropped within one 10 s window is ignored
 * for 5 minutes). Every map is a bounded LRU, so spoofed floods from millions of addresses cost bounded memory.
 * Sans-IO: no timers; the clock is read on each check.
 */
export class InboundRateLimiter {
  private readonly now: () => number;
  private readonly perIp: RateLimit;
  private readonly perGroup: RateLimit;
  private readonly handshakeLimit: RateLimit;
  private readonly storeLimit: RateLimit;
  private readonly banWindowMs: number;
  private readonly banAfterDrops: number;
  private readonly banMs: number;
  private readonly isAllowListed: (host: string) => boolean;
  private readonly onBan: (event: BanEvent) => void;
  private readonly sources: LruMap<string, SourceState>;
  private readonly groups: LruMap<string, TokenBucket>;
  private readonly bans: LruMap<string, Ban>;
  private readonly drops = new ReasonCounter<RateLimitReason>();
  private readonly banCounts = new ReasonCounter<BanReason>();
  private allowed = 0;
  private allowListed = 0;

  constructor(options: InboundRateLimiterOptions) {
    this.now = options.now;
    this.perIp = checkedLimit('perIp', options.perIp, DEFAULTS.rateIpPerSecond, DEFAULTS.rateIpBurst);
    this.perGroup = checkedLimit(
      'perGroup',
      options.perGroup,
      DEFAULTS.rateGroupPerSecond,
      DEFAULTS.rateGroupBurst,
    );
    this.handshakeLimit = checkedLimit(
      'handshakes',
      options.handshakes,
      DEFAULTS.rateHandshakesPerSecond,
      DEFAULTS.rateHandshakeBurst,
    );
    this.storeLimit = checkedLimit(
      'stores',
      options.stores,
      DEFAULTS.rateStoresPerSecond,
      DEFAULTS.rateStoreBurst,
    );
    this.banWindowMs = positive('banWindowMs', options.banWindowMs ?? DEFAULTS.banWindowMs);
    this.banAfterDrops = nonNegative('banAfterDrops', options.banAfterDrops ?? DEFAULTS.banAfterDrops);
    this.banMs = positive('banMs', options.banMs ?? DEFAULTS.banMs);
    this.isAllowListed = options.isAllowListed ?? (() => false);
    this.onBan = options.onBan ?? (() => undefined);
    this.sources = new LruMap(options.maxTrackedIps ?? DEFAULTS.rateMaxTrackedIps);
    this.groups = new LruMap(options.maxTrackedGroups ?? DEFAULTS.rateMaxTrackedGroups);
    this.bans = new LruMap(options.maxBans ?? DEFAULTS.maxBans);
  }

  /** Charges one unit of `kind` to the host; a denied check charges nothing. */
  check(input: { host: string; kind: RateLimitKind }): RateDecision {
    const { host, kind } = input;
    if (this.isAllowListed(host)) {
      this.allowListed++;
      return ALLOW;
    }
    const nowMs = this.now();
    const keys = sourceKeys(host);
    const ban = this.bans.size > 0 ? this.bans.get(keys.source) : undefined;
    if (ban) {
      if (ban.untilMs > nowMs) return this.deny('banned');
      this.bans.delete(keys.source);
    }
    const state = this.sourceState(keys.source, nowMs);
    if (kind === 'packet') {
      if (!state.packets.tryTake(nowMs)) return this.denyPerSource('rate_ip', state, host, nowMs);
      if (!this.groupBucket(keys.group, nowMs).tryTake(nowMs)) {
        // The source's own token goes back: a packet dropped because its neighbours flood must not also
        // count toward this source's ban.
        state.packets.refund();
        return this.deny('rate_group');
      }
    } else if (kind === 'handshake') {
      state.handshakes ??= new TokenBucket({ ...this.handshakeLimit, nowMs });
      if (!state.handshakes.tryTake(nowMs)) return this.denyPerSource('rate_handshake', state, host, nowMs);
    } else {
      state.stores ??= new TokenBucket({ ...this.storeLimit, nowMs });
      if (!state.stores.tryTake(nowMs)) return this.denyPerSource('rate_store', state, host, nowMs);
    }
    this.allowed++;
    return ALLOW;
  }

  /**
   * Bans the host's source (its IPv4 address or IPv6 /64) for `ms`; an existing ban is extended, never
   * shortened. Returns false when nothing was banned: allow-listed host, or a non-positive duration.
   */
  ban(host: string, ms: number, reason: BanReason): boolean {
    if (!(ms > 0) || this.isAllowListed(host)) return false;
    const nowMs = this.now();
    const { source } = sourceKeys(host);
    const untilMs = nowMs + ms;
    const existing = this.bans.get(source);
    if (existing && existing.untilMs > nowMs) {
      if (untilMs > existing.untilMs) existing.untilMs = untilMs;
      return true;
    }
    this.bans.set(source, { untilMs, reason });
    this.banCounts.add(reason);
    this.onBan({ host, source, untilMs, reason });
    return true;
  }

  unban(host: string): boolean {
    return this.bans.delete(sourceKeys(host).source);
  }

  isBanned(host: string): boolean {
    const ban = this.bans.peek(sourceKeys(host).source);
    return ban !== undefined && ban.untilMs > this.now();
  }

  stats(): RateLimiterStats {
    const nowMs = this.now();
    for (const [source, ban] of [...this.bans.entries()]) if (ban.untilMs <= nowMs) this.bans.delete(source);
    return {
      allowed: this.allowed,
      allowListed: this.allowListed,
      dropped: Object.fromEntries(REASONS.map((r) => [r, this.drops.get(r)])) as Record<
        RateLimitReason,
        number
      >,
      droppedTotal: this.drops.total(),
      bans: Object.fromEntries(BAN_REASONS.map((r) => [r, this.banCounts.get(r)])) as Record<
        BanReason,
        number
      >,
      activeBans: this.bans.size,
      trackedIps: this.sources.size,
      trackedGroups: this.groups.size,
    };
  }

  private deny(reason: RateLimitReason): RateDecision {
    this.drops.add(reason);
    return DENY[reason];
  }

  /** A drop the source earned itself: counts toward its ban (fixed windows, as libtorrent's dos_blocker). */
  private denyPerSource(
    reason: RateLimitReason,
    state: SourceState,
    host: string,
    nowMs: number,
  ): RateDecision {
    if (nowMs - state.windowStartMs >= this.banWindowMs) {
      state.windowStartMs = nowMs;
      state.windowDrops = 0;
    }
    state.windowDrops++;
    if (state.windowDrops > this.banAfterDrops) {
      state.windowDrops = 0;
      this.ban(host, this.banMs, 'rate_limit');
    }
    return this.deny(reason);
  }

  private sourceState(source: string, nowMs: number): SourceState {
    let state = this.sources.get(source);
    if (!state) {
      state = {
        packets: new TokenBucket({ ...this.perIp, nowMs }),
        // The first drop opens the first window.
        windowStartMs: -Infinity,
        windowDrops: 0,
      };
      this.sources.set(source, state);
    }
    return state;
  }

  private groupBucket(group: string, nowMs: number): TokenBucket {
    let bucket = this.groups.get(group);
    if (!bucket) {
      bucket = new TokenBucket({ ...this.perGroup, nowMs });
      this.groups.set(group, bucket);
    }
    return bucket;
  }
}

/**
 * The keys a host is limited under. An IPv6 host is its /64: that is one subscriber's allocation, and
 * keying single addresses would let one machine rotate through 2^64 of them. The group is the /24 or /48.
 * (A private helper until security/ip-groups.ts lands; it computes the same /24 and /48.)
 */
export function sourceKeys(host: string): { source: string; group: string } {
  if (!host.includes(':')) return { source: host, group: ipv4Group(host) };
  const groups = leadingIpv6Groups(host);
  if (groups) {
    const g48 = `${groups[0].toString(16)}:${groups[1].toString(16)}:${groups[2].toString(16)}`;
    return { source: `${g48}:${groups[3].toString(16)}::/64`, group: `${g48}::/48` };
  }
  let bytes: Uint8Array;
  try {
    bytes = ipToBytes(host);
  } catch {
    // Transports hand us IP literals; anything else is still limited, under its own (bounded) name.
    const name = host.slice(0, 64);
    return { source: name, group: name };
  }
  if (bytes.length === 4) {
    const v4 = `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
    return { source: v4, group: ipv4Group(v4) };
  }
  const word = (i: number) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16);
  return {
    source: `${word(0)}:${word(1)}:${word(2)}:${word(3)}::/64`,
    group: `${word(0)}:${word(1)}:${word(2)}::/48`,
  };
}

function ipv4Group(host: string): string {
  const lastDot = host.lastIndexOf('.');
  return lastDot === -1 ? host : `${host.slice(0, lastDot)}.0/24`;
}

// Scratch space for leadingIpv6Groups: check() runs per datagram and must not allocate for parsing.
const words = new Uint32Array(8);

/**
 * The first four 16-bit groups of a plain IPv6 literal, read straight from the text in one pass (the full
 * parser costs several times more, and check() runs per datagram). Undefined — use the full parser — for
 * dotted or zoned forms, anything malformed, and all-zero prefixes, where IPv4-mapped and other special
 * forms live.
 */
function leadingIpv6Groups(host: string): [number, number, number, number] | undefined {
  if (host.length < 2 || host.length > 39) return undefined;
  let count = 0;
  let gapAt = -1;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c === 0x3a) {
      if (i + 1 < host.length && host.charCodeAt(i + 1) === 0x3a) {
        if (gapAt !== -1) return undefined;
        if (digits > 0) words[count++] = value;
        else if (i !== 0) return undefined;
        gapAt = count;
        i++;
      } else {
        if (digits === 0 || count === 7) return undefined;
        words[count++] = value;
      }
      value = 0;
      digits = 0;
      continue;
    }
    const nibble = hexValue(c);
    if (nibble < 0 || ++digits > 4) return undefined;
    value = (value << 4) | nibble;
  }
  if (digits > 0) {
    if (count === 8) return undefined;
    words[count++] = value;
  } else if (gapAt !== count) {
    return undefined; // a trailing single ':'
  }
  const zeros = 8 - count;
  if (gapAt === -1 ? zeros !== 0 : zeros < 1) return undefined;
  const word = (j: number) =>
    gapAt === -1 || j < gapAt ? words[j] : j < gapAt + zeros ? 0 : words[j - zeros];
  const out: [number, number, number, number] = [word(0), word(1), word(2), word(3)];
  return out[0] === 0 && out[1] === 0 && out[2] === 0 && out[3] === 0 ? undefined : out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function checkedLimit(name: string, limit: RateLimit | undefined, rate: number, burst: number): RateLimit {
  const resolved = { ratePerSecond: limit?.ratePerSecond ?? rate, burst: limit?.burst ?? burst };
  nonNegative(`${name}.ratePerSecond`, resolved.ratePerSecond);
  positive(`${name}.burst`, resolved.burst);
  return resolved;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new KademliaError(`${name} must be a positive number: ${value}`, 'CONFIG_INVALID');
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw new KademliaError(`${name} must be >= 0: ${value}`, 'CONFIG_INVALID');
  return value;
}
