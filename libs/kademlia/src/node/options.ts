import { isIP } from 'node:net';
import { systemClock, type Clock } from '../clock';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import type { Identity } from '../id/identity';
import { noopMetrics, type MetricsSink } from '../metrics/metrics';
import type { DatagramTransport } from '../transport/transport';
import type { CookieMode } from '../session/session-context';
import { WIRE_LIMITS } from '../wire/wire-limits';

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
  for (const name of ['clientMode', 'joinRefresh'] as const) {
    if (typeof o[name] !== 'boolean') fail(name, 'a boolean', o[name]);
  }
}
