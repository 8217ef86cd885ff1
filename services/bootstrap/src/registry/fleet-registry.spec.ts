import Redis from 'ioredis';
import { RedisServer } from '../../../../libs/platform/src/testing';
import { FLEET_INDEX_KEY, fleetRecordKey, parseFleetRecord } from './fleet-record';
import { FleetRegistry, type NodeReport } from './fleet-registry';

const NODE_ID = 'ab'.repeat(20);

function reportAt(overrides: Partial<NodeReport> = {}): NodeReport {
  return {
    nodeId: NODE_ID,
    publicKey: 'cd'.repeat(32),
    region: 'eu-west-1',
    advertisedAddress: 'dht1.example.org:6881',
    version: '0.1.0',
    startedAtMs: 1_000_000,
    tableSize: 120,
    bufferSize: 5_000,
    bufferVerified: 4_900,
    requestsReceived: 0,
    lookups: 0,
    lookupsConverged: 0,
    ...overrides,
  };
}

describe('FleetRegistry against a real Redis', () => {
  let server: RedisServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    redis.disconnect();
    await server.close();
  });
  beforeEach(() => redis.flushall());

  it('writes the record with its TTL, indexes it, and removes both on a clean stop', async () => {
    let now = 1_010_000;
    let report = reportAt();
    const registry = new FleetRegistry({ redis, ttlSeconds: 30, report: () => report, now: () => now });
    expect(await registry.heartbeat()).toBe('written');
    const record = parseFleetRecord(await redis.get(fleetRecordKey(NODE_ID)));
    expect(record).toMatchObject({
      nodeId: NODE_ID,
      region: 'eu-west-1',
      advertisedAddress: 'dht1.example.org:6881',
      bootstrapEntry: `${'cd'.repeat(32)}@dht1.example.org:6881`,
      uptimeSeconds: 10,
      tableSize: 120,
      bufferVerified: 4_900,
    });
    const ttl = await redis.ttl(fleetRecordKey(NODE_ID));
    expect(ttl).toBeGreaterThan(25);
    expect(ttl).toBeLessThanOrEqual(30);
    expect(await redis.zscore(FLEET_INDEX_KEY, NODE_ID)).toBe(String(now));

    // Rates are per interval between heartbeats: 500 requests and 4 of 5 lookups converged in 10 s.
    now += 10_000;
    report = reportAt({ requestsReceived: 500, lookups: 5, lookupsConverged: 4 });
    await registry.heartbeat();
    expect(parseFleetRecord(await redis.get(fleetRecordKey(NODE_ID)))).toMatchObject({
      requestRate: 50,
      lookupSuccessRate: 0.8,
    });

    await registry.remove(NODE_ID);
    expect(await redis.exists(fleetRecordKey(NODE_ID))).toBe(0);
    expect(await redis.zscore(FLEET_INDEX_KEY, NODE_ID)).toBeNull();
  });

  it('prunes index entries whose nodes stopped heartbeating', async () => {
    await redis.zadd(FLEET_INDEX_KEY, 1_000, 'ef'.repeat(20));
    const registry = new FleetRegistry({
      redis,
      ttlSeconds: 30,
      report: () => reportAt(),
      now: () => 1_000_000,
    });
    await registry.heartbeat();
    expect(await redis.zrange(FLEET_INDEX_KEY, 0, -1)).toEqual([NODE_ID]);
  });

  it('does nothing without Redis, and rejects (to be counted) while Redis is down', async () => {
    const disabled = new FleetRegistry({ redis: undefined, ttlSeconds: 30, report: () => reportAt() });
    expect(disabled.enabled).toBe(false);
    expect(await disabled.heartbeat()).toBe('disabled');

    const doomed = await RedisServer.start();
    const client = new Redis(doomed.url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    client.on('error', () => undefined);
    await client.connect();
    await doomed.stop();
    const registry = new FleetRegistry({ redis: client, ttlSeconds: 30, report: () => reportAt() });
    await expect(registry.heartbeat()).rejects.toThrow();
    client.disconnect();
    await doomed.close();
  });

  it('reads back only records it understands', () => {
    expect(parseFleetRecord(null)).toBeUndefined();
    expect(parseFleetRecord('not json')).toBeUndefined();
    expect(parseFleetRecord('{"schema":2}')).toBeUndefined();
    expect(parseFleetRecord(JSON.stringify({ schema: 1, nodeId: 'xyz' }))).toBeUndefined();
  });
});
