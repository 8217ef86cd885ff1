import { systemClock } from '../clock';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { generateIdentity } from '../id/identity';
import { noopMetrics } from '../metrics/metrics';
import { VirtualClock } from '../sim/virtual-clock';
import { WIRE_LIMITS } from '../wire/wire-limits';
import { NODE_DEFAULTS, resolveOptions, type KademliaOptions } from './options';

function configError(options: KademliaOptions): KademliaError {
  try {
    resolveOptions(options);
  } catch (err) {
    if (err instanceof KademliaError) return err;
    throw err;
  }
  throw new Error(`options were accepted: ${JSON.stringify(options)}`);
}

describe('resolveOptions', () => {
  it('fills every option from DEFAULTS and NODE_DEFAULTS', () => {
    const o = resolveOptions();
    expect(o).toEqual({
      identity: undefined,
      transport: undefined,
      snapshotPath: undefined,
      bindAddress: NODE_DEFAULTS.bindAddress,
      bindPort: DEFAULTS.bindPort,
      clock: systemClock,
      clientMode: false,
      metrics: noopMetrics,
      k: DEFAULTS.k,
      alpha: DEFAULTS.alpha,
      maxFailures: DEFAULTS.maxFailures,
      splitRelaxation: DEFAULTS.splitRelaxation,
      replacementCacheSize: DEFAULTS.replacementCacheSize,
      lookupDeadlineMs: DEFAULTS.lookupDeadlineMs,
      lookupMaxRpcs: DEFAULTS.lookupMaxRpcs,
      maxInflightRequests: DEFAULTS.maxInflightRequests,
      maxValueBytes: DEFAULTS.maxValueBytes,
      recordTtlMs: DEFAULTS.recordTtlMs,
      maxStoreRecords: DEFAULTS.maxStoreRecords,
      maxStoreBytes: DEFAULTS.maxStoreBytes,
      maxRecordsPerIp: DEFAULTS.maxRecordsPerIp,
      replicateMs: DEFAULTS.replicateMs,
      republishMs: DEFAULTS.republishMs,
      bucketRefreshMs: DEFAULTS.bucketRefreshMs,
      selfLookupMs: DEFAULTS.selfLookupMs,
      bootstrapRetryMinMs: DEFAULTS.bootstrapRetryMinMs,
      bootstrapRetryMaxMs: DEFAULTS.bootstrapRetryMaxMs,
      bootstrapAttempts: NODE_DEFAULTS.bootstrapAttempts,
      joinRefresh: NODE_DEFAULTS.joinRefresh,
      sessions: NODE_DEFAULTS.sessions,
      cookieMode: NODE_DEFAULTS.cookieMode,
      maintenanceIntervalMs: NODE_DEFAULTS.maintenanceIntervalMs,
      publicMode: NODE_DEFAULTS.publicMode,
      ipDiversity: {},
      trustedNetworks: [],
      idPuzzleDifficulty: DEFAULTS.idPuzzleDifficulty,
      rateLimit: {},
      loadShedding: NODE_DEFAULTS.loadShedding,
      maintenance: NODE_DEFAULTS.maintenance,
      bootstrapRole: false,
      lookupMode: NODE_DEFAULTS.lookupMode,
      disjointPaths: DEFAULTS.disjointPaths,
    });
  });

  it('refuses bad security options with a message naming the option', () => {
    expect(() => resolveOptions({ trustedNetworks: ['10.0.0.0/33'] })).toThrow(/trustedNetworks/);
    expect(() => resolveOptions({ trustedNetworks: ['not-an-ip'] })).toThrow(/trustedNetworks/);
    expect(() => resolveOptions({ idPuzzleDifficulty: -1 })).toThrow(/idPuzzleDifficulty/);
    expect(() => resolveOptions({ idPuzzleDifficulty: 1.5 })).toThrow(/idPuzzleDifficulty/);
    expect(() => resolveOptions({ rateLimit: 'off' as never })).toThrow(/rateLimit/);
    expect(() => resolveOptions({ ipDiversity: 'off' as never })).toThrow(/ipDiversity/);
    expect(() => resolveOptions({ publicMode: 'yes' as never })).toThrow(/publicMode/);
    expect(resolveOptions({ rateLimit: false, ipDiversity: false }).rateLimit).toBe(false);
    expect(() => resolveOptions({ maintenance: 'cron' as never })).toThrow(/maintenance/);
    expect(() => resolveOptions({ bootstrapRole: { capacity: 2_000_000 } })).toThrow(
      /bootstrapRole.capacity/,
    );
    expect(() => resolveOptions({ bootstrapRole: true as never })).toThrow(/bootstrapRole/);
  });

  it('keeps what the caller sets, including falsy values', () => {
    const identity = generateIdentity();
    const clock = new VirtualClock();
    const o = resolveOptions({
      identity,
      clock,
      bindAddress: '::1',
      bindPort: 0,
      k: 8,
      alpha: 8,
      replacementCacheSize: 0,
      clientMode: true,
      joinRefresh: false,
      snapshotPath: '/var/lib/kad/table.json',
      maxValueBytes: 1,
    });
    expect(o.identity).toBe(identity);
    expect(o.clock).toBe(clock);
    expect(o).toMatchObject({
      bindAddress: '::1',
      bindPort: 0,
      k: 8,
      alpha: 8,
      replacementCacheSize: 0,
      clientMode: true,
      joinRefresh: false,
      snapshotPath: '/var/lib/kad/table.json',
      maxValueBytes: 1,
    });
  });

  it('accepts IPv4 and IPv6 bind addresses', () => {
    for (const bindAddress of ['0.0.0.0', '127.0.0.1', '::', '::1', 'fe80::1', '2001:db8::42']) {
      expect(resolveOptions({ bindAddress }).bindAddress).toBe(bindAddress);
    }
  });

  it('rejects a bind address that is not an IP literal', () => {
    for (const bindAddress of ['localhost', '', '1.2.3', '256.0.0.1', '[::1]', '0.0.0.0:6881']) {
      const err = configError({ bindAddress });
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.details).toEqual({ option: 'bindAddress' });
      expect(err.message).toContain('bindAddress');
    }
  });

  it('rejects ports outside 0..65535 and non-integers', () => {
    for (const bindPort of [-1, 65536, 1.5, NaN, Infinity]) {
      expect(configError({ bindPort }).details).toEqual({ option: 'bindPort' });
    }
    expect(resolveOptions({ bindPort: 65535 }).bindPort).toBe(65535);
  });

  const positiveInts = [
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
  ] as const;

  /** The largest k a FIND_NODE reply can carry: every part full. */
  const MAX_K = WIRE_LIMITS.maxContactsPerNodes * WIRE_LIMITS.maxNodesParts;

  it.each(positiveInts)('rejects %s unless it is a positive integer', (name) => {
    for (const bad of [0, -1, 1.5, NaN, Infinity]) {
      // alpha must also stay <= k; give k room so only the value under test can be wrong.
      const err = configError({ k: MAX_K, [name]: bad });
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.details).toEqual({ option: name });
      expect(err.message).toContain(name);
    }
    // maxStoreBytes must also hold one value; a 1-byte store takes 1-byte values.
    expect(resolveOptions({ k: MAX_K, alpha: 1, maxValueBytes: 1, [name]: 1 })[name]).toBe(1);
  });

  it('rejects a k larger than one FIND_NODE reply can carry (every NODES part full)', () => {
    // A node with such a k could not encode its own FIND_NODE replies and would silently stop answering them.
    expect(MAX_K).toBe(160);
    const err = configError({ k: MAX_K + 1 });
    expect(err.details).toEqual({ option: 'k' });
    expect(err.message).toContain(String(MAX_K));
    expect(resolveOptions({ k: MAX_K }).k).toBe(MAX_K);
  });

  it('rejects bootstrapRetryMinMs above bootstrapRetryMaxMs', () => {
    const err = configError({ bootstrapRetryMinMs: 5_000, bootstrapRetryMaxMs: 4_000 });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.details).toEqual({ option: 'bootstrapRetryMinMs' });
    expect(err.message).toContain('bootstrapRetryMaxMs');
    expect(configError({ bootstrapRetryMaxMs: DEFAULTS.bootstrapRetryMinMs - 1 }).details).toEqual({
      option: 'bootstrapRetryMinMs',
    });
    expect(resolveOptions({ bootstrapRetryMinMs: 4_000, bootstrapRetryMaxMs: 4_000 })).toMatchObject({
      bootstrapRetryMinMs: 4_000,
      bootstrapRetryMaxMs: 4_000,
    });
  });

  it('rejects a maxStoreBytes that could not hold one value of maxValueBytes', () => {
    const err = configError({ maxStoreBytes: 999, maxValueBytes: 1_000 });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.details).toEqual({ option: 'maxStoreBytes' });
    expect(err.message).toContain('maxValueBytes');
    expect(resolveOptions({ maxStoreBytes: 1_000, maxValueBytes: 1_000 }).maxStoreBytes).toBe(1_000);
  });

  it.each(['clientMode', 'joinRefresh'] as const)('rejects a %s that is not a boolean', (name) => {
    for (const bad of ['false', 'true', 0, 1, {}]) {
      const err = configError({ [name]: bad as unknown as boolean });
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.details).toEqual({ option: name });
      expect(err.message).toContain(name);
    }
    expect(resolveOptions({ [name]: false })[name]).toBe(false);
    expect(resolveOptions({ [name]: true })[name]).toBe(true);
  });

  const positiveMs = [
    'lookupDeadlineMs',
    'recordTtlMs',
    'replicateMs',
    'republishMs',
    'bucketRefreshMs',
    'selfLookupMs',
    'bootstrapRetryMinMs',
    'bootstrapRetryMaxMs',
    'maintenanceIntervalMs',
  ] as const;

  it.each(positiveMs)('rejects %s unless it is a positive finite number of ms', (name) => {
    for (const bad of [0, -5, NaN, Infinity, '1000' as unknown as number]) {
      const err = configError({ [name]: bad });
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.details).toEqual({ option: name });
    }
    // The retry floor must not exceed the ceiling; a tiny floor keeps the pair valid whichever is under test.
    expect(resolveOptions({ bootstrapRetryMinMs: 0.5, [name]: 0.5 })[name]).toBe(0.5);
  });

  it('rejects a negative or fractional replacement cache size', () => {
    for (const bad of [-1, 2.5, NaN]) {
      expect(configError({ replacementCacheSize: bad }).details).toEqual({ option: 'replacementCacheSize' });
    }
  });

  it('rejects maxValueBytes above the wire limit or below 1', () => {
    for (const bad of [0, DEFAULTS.maxValueBytes + 1, 10_000, 1.5]) {
      const err = configError({ maxValueBytes: bad });
      expect(err.details).toEqual({ option: 'maxValueBytes' });
      expect(err.message).toContain(String(DEFAULTS.maxValueBytes));
    }
    expect(resolveOptions({ maxValueBytes: DEFAULTS.maxValueBytes }).maxValueBytes).toBe(
      DEFAULTS.maxValueBytes,
    );
  });

  it('rejects alpha larger than k', () => {
    const err = configError({ k: 4, alpha: 5 });
    expect(err.details).toEqual({ option: 'alpha' });
    expect(err.message).toContain('k (4)');
    expect(configError({ k: 2 }).details).toEqual({ option: 'alpha' });
    expect(resolveOptions({ k: 3 }).alpha).toBe(3);
  });
});

describe('resolveOptions: session modes', () => {
  it('is encrypted unless plaintext is asked for, and refuses unknown modes', () => {
    expect(resolveOptions().sessions).toBe('encrypted');
    expect(resolveOptions({ sessions: 'plaintext' }).sessions).toBe('plaintext');
    expect(() => resolveOptions({ sessions: 'none' as never })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { option: 'sessions' } }),
    );
    expect(() => resolveOptions({ cookieMode: 'sometimes' as never })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { option: 'cookieMode' } }),
    );
  });
});
