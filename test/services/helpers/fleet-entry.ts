import Redis from 'ioredis';
import {
  FLEET_INDEX_KEY,
  fleetRecordKey,
  parseFleetRecord,
  type FleetRecord,
} from '../../../services/bootstrap/src/registry/fleet-record';

export interface FleetEntry {
  /** The parsed record; undefined when the key is absent (or holds something that is not a record). */
  readonly record: FleetRecord | undefined;
  readonly raw: string | null;
  /** PTTL of the record key: -2 absent, -1 no expiry, else milliseconds left. */
  readonly ttlMs: number;
  /** Whether the node is a member of the registry's index ZSET. */
  readonly indexed: boolean;
}

/** What the fleet registry in Redis holds for one node, read with a fresh connection (Redis may have restarted). */
export async function readFleetEntry(redisUrl: string, nodeIdHex: string): Promise<FleetEntry> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    const key = fleetRecordKey(nodeIdHex);
    const [raw, ttlMs, score] = await Promise.all([
      redis.get(key),
      redis.pttl(key),
      redis.zscore(FLEET_INDEX_KEY, nodeIdHex),
    ]);
    return { record: parseFleetRecord(raw), raw, ttlMs, indexed: score !== null };
  } finally {
    redis.disconnect();
  }
}
