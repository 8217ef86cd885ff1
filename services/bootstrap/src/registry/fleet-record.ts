/**
 * The fleet registry's shape in Redis, shared by the bootstrap nodes that write it and the dashboard that reads
 * it (docs/fleet-registry.md):
 *
 *   kadfleet:fleet:bootstrap:<nodeId hex>   JSON FleetRecord, SET with EX = ttl: gone when heartbeats stop
 *   kadfleet:fleet:bootstrap                ZSET nodeId -> last heartbeat (ms since epoch), an index to list
 *                                           members without SCAN; members older than the TTL are pruned by
 *                                           every heartbeat
 */
export const FLEET_KEY_PREFIX = 'kadfleet:fleet:bootstrap';

export function fleetRecordKey(nodeIdHex: string): string {
  return `${FLEET_KEY_PREFIX}:${nodeIdHex}`;
}

export const FLEET_INDEX_KEY = FLEET_KEY_PREFIX;

export interface FleetRecord {
  /** Version of this record's shape; readers skip versions they do not know. */
  readonly schema: 1;
  readonly nodeId: string;
  readonly publicKey: string;
  readonly region: string;
  /** Where clients reach the node (`host:port`), which may differ from where it binds. */
  readonly advertisedAddress: string;
  /** `pubkey@host:port`: the pinned bootstrap entry clients can use. */
  readonly bootstrapEntry: string;
  readonly httpUrl?: string;
  readonly version: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly uptimeSeconds: number;
  readonly tableSize: number;
  readonly bufferSize?: number;
  readonly bufferVerified?: number;
  /** Requests received per second over the last heartbeat interval. */
  readonly requestRate: number;
  /** Share of this node's lookups since the previous heartbeat that converged (null: none ran). */
  readonly lookupSuccessRate: number | null;
  readonly sessions?: number;
}

const HEX_ID = /^[0-9a-f]{40}$/;

/** Parses what a registry key holds; undefined for anything that is not a record this code understands. */
export function parseFleetRecord(json: string | null): FleetRecord | undefined {
  if (json === null || json.length > 16_384) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<FleetRecord>;
  if (r.schema !== 1 || typeof r.nodeId !== 'string' || !HEX_ID.test(r.nodeId)) return undefined;
  if (typeof r.region !== 'string' || typeof r.advertisedAddress !== 'string') return undefined;
  if (typeof r.tableSize !== 'number' || typeof r.uptimeSeconds !== 'number') return undefined;
  return r as FleetRecord;
}
