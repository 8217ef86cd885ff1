import { isIP } from 'node:net';
import { systemClock, type Clock } from '../clock';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import type { Identity } from '../id/identity';
import { noopMetrics, type MetricsSink } from '../metrics/metrics';
import type { DatagramTransport } from '../transport/transport';
import type { CookieMode } from '../session/session-context';
import { WIRE_LIMITS } from '../wire/wire-limits';
import { checkPuzzleDifficulty } from '../id/puzzle';
import { CidrMatcher } from '../security/cidr';
import type { BootstrapRoleOptions } from '../bootstrap/bootstrap-role';
import type { IpDiversityOptions } from '../security/ip-diversity';
import type { InboundRateLimiterOptions } from '../security/rate-limiter';

/** Tuning of the bootstrap role's buffer and its pings; every field defaults from DEFAULTS.bootstrapBuffer. */
export type BootstrapRoleSettings = Partial<
  Pick<
    BootstrapRoleOptions,
    | 'capacity'
    | 'verifyConcurrency'
    | 'verifyRatePerSecond'
    | 'verifyTimeoutMs'
    | 'reverifyAfterMs'
    | 'maxPerIp'
    | 'maxPerGroup'
  >
>;

/** Inbound rate limits (per address, per /24 or /48, handshakes, STOREs, bans); defaults from DEFAULTS.rate*. */
export type RateLimitOptions = Omit<InboundRateLimiterOptions, 'now' | 'isAllowListed' | 'onBan'>;

/** What an application passes to `new KademliaDHT(...)`; everything is optional. */
export interface KademliaOptions {
  /** Static key pair; generated when absent (see loadOrCreateIdentity to persist one). */
  identity?: Identity;
  /** IPv4 or IPv6 address to bind; '0.0.0.0' (default) binds udp4 on all interfaces and udp6 on '::'. */
  bindAddress?: string;
  /** UDP port; 0 lets the OS pick (read it back with dht.address()). */
  bindPort?: number;
  /** Replaces UDP, e.g. with the simulator's in-memory network. */
  transport?: DatagramTransport;
  /** Time source; the simulator passes a virtual clock. */
  clock?: Clock;
  /**
   * 'encrypted' (default): Noise-IK sessions (docs/protocol-sessions.md). 'plaintext': no encryption and
   * self-asserted keys — for debugging and measurements on a trusted network only.
   */
  sessions?: 'encrypted' | 'plaintext';
  /** Encrypted sessions: 'auto' answers handshakes with stateless cookies only under a handshake flood. */
  cookieMode?: CookieMode;
  /** Query only: peers will not put this node in their routing tables (short-lived tools, NATed clients). */
  clientMode?: boolean;
  /** Routing-table snapshot file: loaded (and re-verified) at start, written periodically and on stop. */
  snapshotPath?: string;
  metrics?: MetricsSink;
  k?: number;
  alpha?: number;
  maxFailures?: number;
  splitRelaxation?: number;
  replacementCacheSize?: number;
  lookupDeadlineMs?: number;
  lookupMaxRpcs?: number;
  maxInflightRequests?: number;
  maxValueBytes?: number;
  recordTtlMs?: number;
  maxStoreRecords?: number;
  maxStoreBytes?: number;
  maxRecordsPerIp?: number;
  replicateMs?: number;
  republishMs?: number;
  bucketRefreshMs?: number;
  selfLookupMs?: number;
  bootstrapRetryMinMs?: number;
  bootstrapRetryMaxMs?: number;
  /** Bootstrap rounds start() waits for before resolving with bootstrapped=false (retries continue after). */
  bootstrapAttempts?: number;
  /**
   * After the join's self-lookup, also look up one random ID per log-distance range to fill far buckets at once
   * (the paper's join). Off, far buckets fill from traffic over time; simulations of huge networks turn it off.
   */
  joinRefresh?: boolean;
  /** Period of the maintenance tick that runs refresh, replication, republish, expiry and snapshots. */
  maintenanceIntervalMs?: number;
  /**
   * A node on the open internet: contacts with bogon addresses (private, loopback, reserved, documentation)
   * are never asked, stored or handed out. Off by default so LANs and loopback test networks work.
   */
  publicMode?: boolean;
  /**
   * Routing-table admission by address group (/24, /48) and exact IP; on by default with DEFAULTS' limits,
   * loopback exempt. `false` turns it off (simulations of one subnet only).
   */
  ipDiversity?: IpDiversityOptions | false;
  /**
   * The operator's own networks (CIDRs, e.g. the bootstrap fleet's): never rate-limited, banned, or limited
   * by IP diversity, and allowed in public mode even when private.
   */
  trustedNetworks?: readonly string[];
  /** S/Kademlia static puzzle bits every NodeId must show (a network parameter; 0 = off). */
  idPuzzleDifficulty?: number;
  /** Inbound rate limits and bans; `false` turns them off (benchmarks of the raw path only). */
  rateLimit?: RateLimitOptions | false;
  /** Shed work by priority when the event loop lags or requests pile up. */
  loadShedding?: boolean;
  /**
   * 'internal' (default): the node's own timer runs refresh, replication, republish, expiry and snapshots.
   * 'external': nothing runs by itself; the application calls runMaintenance() on maintenanceSchedule()'s periods.
   */
  maintenance?: 'internal' | 'external';
  /**
   * Bootstrap role (DESIGN "Bootstrap role"): besides the table, a large buffer of contacts, each pinged before
   * it is handed out; FIND_NODE answers come from both. For the fleet's bootstrap nodes; off by default.
   */
  bootstrapRole?: BootstrapRoleSettings | false;
  /**
   * 'standard' (default): one lookup path. 'secure': S/Kademlia disjoint paths for findNode, store and findValue
   * (about `disjointPaths` times the requests); `OperationOptions.secure` overrides it per call.
   */
  lookupMode?: 'standard' | 'secure';
  /** Disjoint paths of a secure-mode lookup (DEFAULTS.disjointPaths). */
  disjointPaths?: number;
}

export type ResolvedOptions = Required<Omit<KademliaOptions, 'identity' | 'transport' | 'snapshotPath'>> &
  Pick<KademliaOptions, 'identity' | 'transport' | 'snapshotPath'>;

/** Defaults of the node façade itself (protocol defaults come from DEFAULTS). */
export const NODE_DEFAULTS = {
  /** Bind every interface, both families: a DHT node serves whoever can reach it. */
  bindAddress: '0.0.0.0',
  /** start() gives the bootstrap this many rounds before reporting failure; it keeps retrying afterwards. */
  bootstrapAttempts: 3,
  /** Encrypted sessions unless a caller explicitly asks for plaintext. */
  sessions: 'encrypted',
  /** Cookies only while handshakes flood in: honest first contacts keep their one round trip. */
  cookieMode: 'auto',
  /** A joining node fills its far buckets right away, so its first lookups are short. */
  joinRefresh: true,
  /** One timer drives all periodic work; 5 s is finer than any period it serves (the shortest is minutes). */
  maintenanceIntervalMs: 5_000,
  /** LAN and loopback networks must work out of the box; internet-facing nodes turn public mode on. */
  publicMode: false,
  /** Defences are on unless switched off: a node cannot know in advance that its network is friendly. */
  loadShedding: true,
  /** A library node must keep itself healthy without help; services opt into driving it. */
  maintenance: 'internal',
  /** Secure lookups cost about disjointPaths times the requests; a node opts in where attackers are expected. */
  lookupMode: 'standard',
} as const;

export function resolveOptions(options: KademliaOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {
    identity: options.identity,
    transport: options.transport,
    snapshotPath: options.snapshotPath,
    bindAddress: options.bindAddress ?? NODE_DEFAULTS.bindAddress,
    bindPort: options.bindPort ?? DEFAULTS.bindPort,
    clock: options.clock ?? systemClock,
    clientMode: options.clientMode ?? false,
    metrics: options.metrics ?? noopMetrics,
    k: options.k ?? DEFAULTS.k,
    alpha: options.alpha ?? DEFAULTS.alpha,
    maxFailures: options.maxFailures ?? DEFAULTS.maxFailures,
    splitRelaxation: options.splitRelaxation ?? DEFAULTS.splitRelaxation,
    replacementCacheSize: options.replacementCacheSize ?? DEFAULTS.replacementCacheSize,
    lookupDeadlineMs: options.lookupDeadlineMs ?? DEFAULTS.lookupDeadlineMs,
    lookupMaxRpcs: options.lookupMaxRpcs ?? DEFAULTS.lookupMaxRpcs,
    maxInflightRequests: options.maxInflightRequests ?? DEFAULTS.maxInflightRequests,
    maxValueBytes: options.maxValueBytes ?? DEFAULTS.maxValueBytes,
    recordTtlMs: options.recordTtlMs ?? DEFAULTS.recordTtlMs,
    maxStoreRecords: options.maxStoreRecords ?? DEFAULTS.maxStoreRecords,
    maxStoreBytes: options.maxStoreBytes ?? DEFAULTS.maxStoreBytes,
    maxRecordsPerIp: options.maxRecordsPerIp ?? DEFAULTS.maxRecordsPerIp,
    replicateMs: options.replicateMs ?? DEFAULTS.replicateMs,
    republishMs: options.republishMs ?? DEFAULTS.republishMs,
    bucketRefreshMs: options.bucketRefreshMs ?? DEFAULTS.bucketRefreshMs,
    selfLookupMs: options.selfLookupMs ?? DEFAULTS.selfLookupMs,
    bootstrapRetryMinMs: options.bootstrapRetryMinMs ?? DEFAULTS.bootstrapRetryMinMs,
    bootstrapRetryMaxMs: options.bootstrapRetryMaxMs ?? DEFAULTS.bootstrapRetryMaxMs,
    bootstrapAttempts: options.bootstrapAttempts ?? NODE_DEFAULTS.bootstrapAttempts,
    maintenanceIntervalMs: options.maintenanceIntervalMs ?? NODE_DEFAULTS.maintenanceIntervalMs,
    joinRefresh: options.joinRefresh ?? NODE_DEFAULTS.joinRefresh,
    sessions: options.sessions ?? NODE_DEFAULTS.sessions,
    cookieMode: options.cookieMode ?? NODE_DEFAULTS.cookieMode,
    publicMode: options.publicMode ?? NODE_DEFAULTS.publicMode,
    ipDiversity: options.ipDiversity ?? {},
    trustedNetworks: [...(options.trustedNetworks ?? [])],
    idPuzzleDifficulty: options.idPuzzleDifficulty ?? DEFAULTS.idPuzzleDifficulty,
    rateLimit: options.rateLimit ?? {},
    loadShedding: options.loadShedding ?? NODE_DEFAULTS.loadShedding,
    maintenance: options.maintenance ?? NODE_DEFAULTS.maintenance,
    bootstrapRole: options.bootstrapRole ?? false,
    lookupMode: options.lookupMode ?? NODE_DEFAULTS.lookupMode,
    // A small k (tests, tiny networks) cannot seed more paths than it has contacts: the default shrinks to fit.
    disjointPaths:
      options.disjointPaths ??
      Math.min(DEFAULTS.disjointPaths, Math.max(1, Math.floor(Number(options.k ?? DEFAULTS.k)) || 1)),
  };
  validate(resolved);
  return resolved;
}

function validate(o: ResolvedOptions): void {
  const fail = (name: string, allowed: string, got: unknown) => {
    throw new KademliaError(`option ${name} must be ${allowed} (got ${String(got)})`, 'CONFIG_INVALID', {
      option: name,
    });
  };
  if (isIP(o.bindAddress) === 0) fail('bindAddress', 'an IPv4 or IPv6 address', o.bindAddress);
  if (!Number.isInteger(o.bindPort) || o.bindPort < 0 || o.bindPort > 65535) {
    fail('bindPort', 'an integer 0..65535', o.bindPort);
  }
  const positiveInts: Array<keyof ResolvedOptions> = [
    'k',
    'alpha',
    'maxFailures',
    'splitRelaxation',
    'lookupMaxRpcs',
    'maxInflightRequests',
    'maxStoreRecords',
    'maxStoreBytes',
    'maxRecordsPerIp',
    'bootstrapAttempts',
  ];
  for (const name of positiveInts) {
    const v = o[name];
    if (!Number.isInteger(v) || (v as number) < 1) fail(name, 'a positive integer', v);
  }
  const positiveMs: Array<keyof ResolvedOptions> = [
    'lookupDeadlineMs',
    'recordTtlMs',
    'replicateMs',
    'republishMs',
    'bucketRefreshMs',
    'selfLookupMs',
    'bootstrapRetryMinMs',
    'bootstrapRetryMaxMs',
    'maintenanceIntervalMs',
  ];
  for (const name of positiveMs) {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(name, 'a positive number of ms', v);
  }
  if (!Number.isInteger(o.replacementCacheSize) || o.replacementCacheSize < 0) {
    fail('replacementCacheSize', 'a non-negative integer', o.replacementCacheSize);
  }
  if (!Number.isInteger(o.maxValueBytes) || o.maxValueBytes < 1 || o.maxValueBytes > DEFAULTS.maxValueBytes) {
    fail('maxValueBytes', `an integer 1..${DEFAULTS.maxValueBytes} (the wire limit)`, o.maxValueBytes);
  }
  if (o.alpha > o.k) fail('alpha', `at most k (${o.k})`, o.alpha);
  if (o.sessions !== 'encrypted' && o.sessions !== 'plaintext')
    fail('sessions', "'encrypted' or 'plaintext'", o.sessions);
  if (!['auto', 'always', 'never'].includes(o.cookieMode))
    fail('cookieMode', "'auto', 'always' or 'never'", o.cookieMode);
  if (o.lookupMode !== 'standard' && o.lookupMode !== 'secure')
    fail('lookupMode', "'standard' or 'secure'", o.lookupMode);
  // Each path starts from its own share of the k closest seeds: more paths than k would start some empty.
  if (!Number.isInteger(o.disjointPaths) || o.disjointPaths < 1 || o.disjointPaths > o.k)
    fail('disjointPaths', `an integer 1..k (${o.k})`, o.disjointPaths);
  // A FIND_NODE reply holds k contacts, and no reply may need more NODES parts than the wire allows: past this
  // the node could not encode its own replies and would silently stop answering FIND_NODE.
  const maxK = WIRE_LIMITS.maxContactsPerNodes * WIRE_LIMITS.maxNodesParts;
  if (o.k > maxK) fail('k', `at most ${maxK} (what one FIND_NODE reply can carry)`, o.k);
  if (o.bootstrapRetryMinMs > o.bootstrapRetryMaxMs) {
    fail(
      'bootstrapRetryMinMs',
      `at most bootstrapRetryMaxMs (${o.bootstrapRetryMaxMs})`,
      o.bootstrapRetryMinMs,
    );
  }
  if (o.maxStoreBytes < o.maxValueBytes) {
    fail('maxStoreBytes', `at least maxValueBytes (${o.maxValueBytes})`, o.maxStoreBytes);
  }
  // `?? default` lets any non-nullish value through; a string 'false' would otherwise read as true.
  try {
    CidrMatcher.of(o.trustedNetworks);
  } catch {
    fail(
      'trustedNetworks',
      'a list of CIDRs such as 10.0.0.0/8 or 2001:db8::/32',
      o.trustedNetworks.join(','),
    );
  }
  try {
    checkPuzzleDifficulty(o.idPuzzleDifficulty);
  } catch {
    fail('idPuzzleDifficulty', 'an integer 0..256', o.idPuzzleDifficulty);
  }
  if (o.bootstrapRole !== false) {
    if (typeof o.bootstrapRole !== 'object' || o.bootstrapRole === null)
      fail('bootstrapRole', 'false or a settings object', o.bootstrapRole);
    const capacity = o.bootstrapRole.capacity;
    const max = DEFAULTS.bootstrapBuffer.maxCapacity;
    if (capacity !== undefined && (!Number.isInteger(capacity) || capacity < 1 || capacity > max))
      fail('bootstrapRole.capacity', `an integer 1..${max}`, capacity);
  }
  if (o.maintenance !== 'internal' && o.maintenance !== 'external')
    fail('maintenance', "'internal' or 'external'", o.maintenance);
  if (o.ipDiversity !== false && (typeof o.ipDiversity !== 'object' || o.ipDiversity === null))
    fail('ipDiversity', 'false or an options object', o.ipDiversity);
  if (o.rateLimit !== false && (typeof o.rateLimit !== 'object' || o.rateLimit === null))
    fail('rateLimit', 'false or an options object', o.rateLimit);
  for (const name of ['clientMode', 'joinRefresh', 'publicMode', 'loadShedding'] as const) {
    if (typeof o[name] !== 'boolean') fail(name, 'a boolean', o[name]);
  }
}
