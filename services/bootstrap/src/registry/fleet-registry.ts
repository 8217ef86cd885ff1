import type Redis from 'ioredis';
import { FLEET_INDEX_KEY, fleetRecordKey, type FleetRecord } from './fleet-record';

/** What the node reports at each heartbeat; the registry derives rates from consecutive reports. */
export interface NodeReport {
  readonly nodeId: string;
  readonly publicKey: string;
  readonly region: string;
  readonly advertisedAddress: string;
  readonly httpUrl?: string;
  readonly version: string;
  readonly startedAtMs: number;
  readonly tableSize: number;
  readonly bufferSize?: number;
  readonly bufferVerified?: number;
  readonly sessions?: number;
  /** Monotonic totals since start. */
  readonly requestsReceived: number;
  readonly lookups: number;
  readonly lookupsConverged: number;
}

export interface FleetRegistryOptions {
  /** undefined: no Redis configured, heartbeats do nothing. */
  readonly redis: Pick<Redis, 'multi'> | undefined;
  /** How long an entry outlives its last heartbeat (seconds); a few heartbeat periods. */
  readonly ttlSeconds: number;
  readonly report: () => NodeReport;
  readonly now?: () => number;
}

export type HeartbeatResult = 'written' | 'disabled';

/**
 * Heartbeats of one bootstrap node into the Redis fleet registry (fleet-record.ts has the layout). Each
 * heartbeat is one MULTI: the record with its TTL, the index entry, and pruning of index entries whose records
 * have expired. Failures reject (the caller counts and logs them); the next heartbeat simply tries again, so a
 * Redis outage costs the registry nothing but freshness, and never touches the DHT.
 */
export class FleetRegistry {
  private previous: { atMs: number; requests: number; lookups: number; converged: number } | undefined;
  private readonly now: () => number;

  constructor(private readonly options: FleetRegistryOptions) {
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.options.redis !== undefined;
  }

  /** The record this node would publish now (also served on the HTTP status endpoint). */
  record(): FleetRecord {
    const r = this.options.report();
    const nowMs = this.now();
    const prev = this.previous ?? { atMs: r.startedAtMs, requests: 0, lookups: 0, converged: 0 };
    const seconds = Math.max(0.001, (nowMs - prev.atMs) / 1000);
    const lookups = r.lookups - prev.lookups;
    return {
      schema: 1,
      nodeId: r.nodeId,
      publicKey: r.publicKey,
      region: r.region,
      advertisedAddress: r.advertisedAddress,
      bootstrapEntry: `${r.publicKey}@${r.advertisedAddress}`,
      httpUrl: r.httpUrl,
      version: r.version,
      startedAt: new Date(r.startedAtMs).toISOString(),
      updatedAt: new Date(nowMs).toISOString(),
      uptimeSeconds: Math.round((nowMs - r.startedAtMs) / 1000),
      tableSize: r.tableSize,
      bufferSize: r.bufferSize,
      bufferVerified: r.bufferVerified,
      sessions: r.sessions,
      requestRate: round2(Math.max(0, r.requestsReceived - prev.requests) / seconds),
      lookupSuccessRate: lookups > 0 ? round2((r.lookupsConverged - prev.converged) / lookups) : null,
    };
  }

  async heartbeat(): Promise<HeartbeatResult> {
    const redis = this.options.redis;
    if (!redis) return 'disabled';
    const report = this.options.report();
    const record = this.record();
    const nowMs = this.now();
    await redis
      .multi()
      .set(fleetRecordKey(record.nodeId), JSON.stringify(record), 'EX', this.options.ttlSeconds)
      .zadd(FLEET_INDEX_KEY, nowMs, record.nodeId)
      .zremrangebyscore(FLEET_INDEX_KEY, '-inf', nowMs - this.options.ttlSeconds * 1000)
      .exec()
      .then(throwOnFailedCommand);
    this.previous = {
      atMs: nowMs,
      requests: report.requestsReceived,
      lookups: report.lookups,
      converged: report.lookupsConverged,
    };
    return 'written';
  }

  /** A clean stop removes the entry at once, instead of leaving it to expire. */
  async remove(nodeId: string): Promise<void> {
    const redis = this.options.redis;
    if (!redis) return;
    await redis
      .multi()
      .del(fleetRecordKey(nodeId))
      .zrem(FLEET_INDEX_KEY, nodeId)
      .exec()
      .then(throwOnFailedCommand);
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** MULTI resolves with per-command errors instead of rejecting; a heartbeat with a failed command failed. */
function throwOnFailedCommand(results: Array<[Error | null, unknown]> | null): void {
  if (results === null) throw new Error('Redis transaction aborted');
  const failed = results.find(([err]) => err !== null);
  if (failed) throw failed[0];
}
