/**
 * End-to-end: the bootstrap service as its own process (node + the TypeScript hook, configured by environment),
 * a private redis-server, and real DHT peers on loopback that join through it by the name `localhost`.
 * One service process (and its restart) serves the whole file; the tests run in order and build on each other:
 * empty → peers joined → registry → Redis outage → SIGTERM → warm restart → SIGKILL.
 */
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KademliaDHT, idFromHex, randomId, type NodeId } from '../../libs/kademlia/src';
import {
  parsePrometheusText,
  startRedisServer,
  type MetricFamily,
  type RedisServer,
} from '../../libs/platform/src/testing';
import type { FleetRecord } from '../../services/bootstrap/src/registry/fleet-record';
import { BootstrapProcess } from './helpers/bootstrap-process';
import { PEER_OPTIONS, inexactLookups, startPeers, stopAll } from './helpers/client-peers';
import { readFleetEntry } from './helpers/fleet-entry';
import { waitFor } from './helpers/wait-for';

jest.setTimeout(30_000);

interface StatusReply {
  node: FleetRecord;
  registry: 'enabled' | 'disabled';
  udp: { address: string; port: number };
  tableSize: number;
  bootstrapBuffer: { size: number; verified: number; suspect: number; pending: number };
  lookups: { node: number; value: number; converged: number };
}

const PEERS = 20;
const REGION = 'test-east-1';
const SERVICE_ENV = {
  DHT_REGION: REGION,
  // Published apart from the bind address: clients are told the name, the socket binds 127.0.0.1.
  DHT_ADVERTISED_HOST: 'localhost',
  REGISTRY_HEARTBEAT_MS: '500',
  REGISTRY_TTL_MS: '2000',
  // Verification rounds often enough that contacts met during the test get verified while it runs.
  DHT_BUFFER_VERIFY_INTERVAL_MS: '200',
};

let redis: RedisServer;
let dataDir: string;
let service: BootstrapProcess;
let serviceId: string;
let peers: KademliaDHT[] = [];
let client: KademliaDHT | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kadfleet-bootstrap-e2e-'));
  redis = await startRedisServer();
  service = await BootstrapProcess.start({ dataDir, redisUrl: redis.url, env: SERVICE_ENV });
  serviceId = (await service.json<StatusReply>('/status')).node.nodeId;
}, 90_000);

afterAll(async () => {
  await client?.stop().catch(() => undefined);
  await stopAll(peers);
  await service?.kill();
  await redis?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Every node a client's lookup may find: the bootstrap node and the peers (the client excludes itself). */
function networkIds(): NodeId[] {
  return [idFromHex(serviceId), ...peers.map((p) => p.nodeId), ...(client ? [client.nodeId] : [])];
}

function randomTargets(n: number): NodeId[] {
  return Array.from({ length: n }, () => randomId());
}

async function readiness(): Promise<{ status: number; body: Record<string, unknown> }> {
  const reply = await service.get('/health/ready');
  return { status: reply.status, body: JSON.parse(reply.body) as Record<string, unknown> };
}

async function metrics(): Promise<Map<string, MetricFamily>> {
  const reply = await service.get('/metrics');
  expect(reply.status).toBe(200);
  return parsePrometheusText(reply.body);
}

/** Sum of a family's samples whose labels include `labels` (histograms: pass the sample name, e.g. `_count`). */
function total(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = families.get(name) ?? families.get(name.replace(/_(count|sum|bucket)$/, ''));
  return (family?.samples ?? [])
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

it('is live but not ready while its routing table is empty', async () => {
  expect((await service.get('/health/live')).status).toBe(200);
  const ready = await readiness();
  expect(ready.status).toBe(503);
  expect(JSON.stringify(ready.body.error)).toContain('routing table is empty');
  expect((await service.json<StatusReply>('/status')).tableSize).toBe(0);
});

it(`lets ${PEERS} peers join through the name localhost and answers a client's lookups with the true closest nodes`, async () => {
  peers = await startPeers({ count: PEERS, entry: service.dhtEntry, block: 71 });
  client = new KademliaDHT({ ...PEER_OPTIONS, bindAddress: '127.0.0.1', bindPort: 0 });
  const report = await client.start([service.dhtEntry]);
  expect(report.bootstrapped).toBe(true);

  expect(await inexactLookups({ client, network: networkIds(), targets: randomTargets(5) })).toEqual([]);
  // The bootstrap node met every peer that joined through it.
  const status = await service.json<StatusReply>('/status');
  expect(status.tableSize).toBeGreaterThanOrEqual(PEERS);
});

it('turns ready once peers have joined, and stays live', async () => {
  const ready = await waitFor('/health/ready 200', async () => {
    const r = await readiness();
    return r.status === 200 ? r : undefined;
  });
  expect(ready.body.status).toBe('ok');
  expect((await service.get('/health/live')).status).toBe(200);
});

it('serves valid Prometheus text with the DHT, buffer, Redis, HTTP and process metrics', async () => {
  // Traffic the metrics must show: a FIND_VALUE the node cannot answer (a cache miss) and a datagram of junk.
  await expect(client!.findValue(`absent-${Date.now()}`)).resolves.toBeNull();
  const junk = createSocket('udp4');
  await new Promise<void>((resolve, reject) =>
    junk.send(Buffer.from('not a kadfleet packet'), service.dhtPort, '127.0.0.1', (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  junk.close();

  // Wait for what arrives asynchronously (the junk datagram, a verification round's answers), then check it all.
  const families = await waitFor('drops, verified buffer contacts and answer times in /metrics', async () => {
    const m = await metrics();
    const ready =
      total(m, 'kad_packets_dropped_total') > 0 &&
      total(m, 'kad_bootstrap_buffer_contacts', { state: 'verified' }) > 0 &&
      total(m, 'kad_rpc_response_seconds_count') > 0;
    return ready ? m : undefined;
  });

  const types: Record<string, string> = {
    kad_packets_received_total: 'counter',
    kad_packets_sent_total: 'counter',
    kad_requests_received_total: 'counter',
    kad_requests_sent_total: 'counter',
    kad_responses_sent_total: 'counter',
    kad_packets_dropped_total: 'counter',
    kad_rpc_response_seconds: 'histogram',
    kad_routing_table_size: 'gauge',
    kad_bootstrap_buffer_contacts: 'gauge',
    kad_bootstrap_buffer_bytes: 'gauge',
    kad_sessions: 'gauge',
    kad_handshakes_total: 'counter',
    kad_lookups_total: 'counter',
    kad_lookup_duration_seconds: 'histogram',
    redis_errors_total: 'counter',
    redis_up: 'gauge',
    process_cpu_seconds_total: 'counter',
    process_resident_memory_bytes: 'gauge',
    kad_peer_rtt_seconds: 'gauge',
    kad_node_up: 'gauge',
    kad_value_requests_total: 'counter',
    kad_rpc_errors_total: 'counter',
    http_request_duration_seconds: 'histogram',
  };
  const missing = Object.entries(types).filter(([name, type]) => families.get(name)?.type !== type);
  expect(missing).toEqual([]);

  expect(total(families, 'kad_node_up')).toBe(1);
  expect(total(families, 'redis_up')).toBe(1);
  expect(total(families, 'kad_routing_table_size')).toBeGreaterThanOrEqual(PEERS);
  expect(total(families, 'kad_requests_received_total', { type: 'ping' })).toBeGreaterThan(0);
  expect(total(families, 'kad_requests_received_total', { type: 'find_node' })).toBeGreaterThan(0);
  expect(total(families, 'kad_packets_received_total')).toBeGreaterThan(0);
  expect(total(families, 'kad_packets_sent_total')).toBeGreaterThan(0);
  expect(total(families, 'kad_handshakes_total', { outcome: 'accepted' })).toBeGreaterThanOrEqual(PEERS);
  expect(total(families, 'kad_sessions')).toBeGreaterThanOrEqual(PEERS);
  expect(total(families, 'kad_value_requests_total', { result: 'miss' })).toBeGreaterThan(0);
  expect(total(families, 'kad_bootstrap_buffer_bytes')).toBeGreaterThan(0);
  const rtt = families.get('kad_peer_rtt_seconds')!.samples.map((s) => s.labels.quantile);
  expect(rtt.sort()).toEqual(['0.5', '0.9', '0.99']);
  expect(total(families, 'http_request_duration_seconds_count')).toBeGreaterThan(0);
  expect(total(families, 'process_cpu_seconds_total')).toBeGreaterThan(0);
});

it('publishes its fleet registry entry in Redis with region, advertised address and table size', async () => {
  const entry = await waitFor('a registry entry showing the peers', async () => {
    const e = await readFleetEntry(redis.url, serviceId);
    return e.record && e.record.tableSize >= PEERS ? e : undefined;
  });
  expect(entry.record).toMatchObject({
    schema: 1,
    nodeId: serviceId,
    region: REGION,
    advertisedAddress: `localhost:${service.dhtPort}`,
  });
  expect(entry.record!.bootstrapEntry).toBe(`${entry.record!.publicKey}@localhost:${service.dhtPort}`);
  expect(entry.indexed).toBe(true);
  // Written with REGISTRY_TTL_MS: it expires unless heartbeats renew it.
  expect(entry.ttlMs).toBeGreaterThan(0);
  expect(entry.ttlMs).toBeLessThanOrEqual(2_000);
});

it('keeps serving UDP while Redis is down, reports not ready, and heartbeats again once Redis is back', async () => {
  await redis.stop();
  const notReady = await waitFor('/health/ready 503 naming redis', async () => {
    const r = await readiness();
    return r.status === 503 && JSON.stringify(r.body.error).includes('redis') ? r : undefined;
  });
  // Only Redis is down: the DHT check still passes.
  expect(JSON.stringify(notReady.body.info)).toContain('dht');
  expect((await service.get('/health/live')).status).toBe(200);

  // UDP service does not depend on Redis: pings and lookups through the node still work.
  const pong = await client!.ping(service.dhtEntry);
  expect(idFromHex(serviceId)).toEqual(pong.contact.id);
  // A newcomer joins while Redis is down. It stays up (stopped in afterAll): a dead contact in the snapshot would
  // hold the warm restart below for the library's ping timeouts (seconds), which is not what that test is about.
  const fresh = new KademliaDHT({ ...PEER_OPTIONS, bindAddress: '127.0.0.2', bindPort: 0 });
  peers.push(fresh);
  expect((await fresh.start([service.dhtEntry])).bootstrapped).toBe(true);
  expect(await inexactLookups({ client: fresh, network: networkIds(), targets: randomTargets(3) })).toEqual(
    [],
  );
  // The outage is counted (as reconnect attempts and heartbeats fail, whichever comes first on a busy machine)...
  await waitFor('Redis errors counted', async () =>
    total(await metrics(), 'redis_errors_total') > 0 ? true : undefined,
  );
  // ...and logged when it starts, once, not at every failed heartbeat.
  await waitFor('a failed heartbeat in the log', () =>
    service.logMessages('heartbeat failed').length > 0 ? true : undefined,
  );

  // A restarted Redis is empty; the next heartbeats write the entry again.
  await redis.restart();
  const entry = await waitFor('the registry entry to reappear', async () => {
    const e = await readFleetEntry(redis.url, serviceId);
    return e.record ? e : undefined;
  });
  expect(entry.record!.region).toBe(REGION);
  await waitFor('the recovery in the log', () =>
    service.logMessages('heartbeats succeed again').length > 0 ? true : undefined,
  );
  expect(service.logMessages('heartbeat failed')).toHaveLength(1);
  await waitFor('/health/ready 200 again', async () =>
    (await readiness()).status === 200 ? true : undefined,
  );
});

it('exits 0 on SIGTERM, writes its snapshots and removes its registry entry at once', async () => {
  const status = await service.stop('SIGTERM', 10_000);
  expect(status).toEqual({ code: 0, signal: null });
  for (const file of ['routing-table.snapshot', 'routing-table.snapshot.buffer']) {
    expect(existsSync(join(dataDir, file))).toBe(true);
    expect(statSync(join(dataDir, file)).size).toBeGreaterThan(0);
  }
  expect(service.logMessages('snapshot written')).toHaveLength(1);
  // Removed, not expired: the index entry is only ever deleted by the node's own clean stop.
  const entry = await readFleetEntry(redis.url, serviceId);
  expect(entry.raw).toBeNull();
  expect(entry.indexed).toBe(false);
});

it('restarts warm from its data dir: same NodeId, buffer restored before it serves, table refilled from the snapshot', async () => {
  const before = service;
  service = await BootstrapProcess.start({
    dataDir,
    redisUrl: redis.url,
    env: SERVICE_ENV,
    httpPort: before.httpPort,
    dhtPort: before.dhtPort,
  });
  const status = await service.json<StatusReply>('/status');
  expect(status.node.nodeId).toBe(serviceId);
  // The buffer is restored before the socket opens; the table refills from the snapshot's peers as they answer
  // the join's pings, which runs in the background (HTTP does not wait for it).
  expect(status.bootstrapBuffer.size).toBeGreaterThan(0);
  await waitFor('the table refilled from the snapshot', async () => {
    const now = await service.json<StatusReply>('/status');
    return now.tableSize > 0 ? true : undefined;
  });
  await waitFor('the join finished', async () =>
    service.logMessages('join done').length > 0 ? true : undefined,
  );
  expect(service.logMessages('joined the network')).toHaveLength(1);
  expect(service.logMessages('founding a new network')).toEqual([]);
  // It re-verified the saved contacts and ran its join lookup, which the lookup metrics count.
  const families = await metrics();
  expect(total(families, 'kad_lookups_total', { kind: 'node' })).toBeGreaterThan(0);
  expect(total(families, 'kad_lookup_duration_seconds_count', { kind: 'node' })).toBeGreaterThan(0);
  // Ready at once: no peer had to find it first.
  await waitFor('/health/ready 200 after the restart', async () =>
    (await readiness()).status === 200 ? true : undefined,
  );
});

it('leaves its registry entry to expire when killed with SIGKILL', async () => {
  await waitFor('the restarted node in the registry', async () =>
    (await readFleetEntry(redis.url, serviceId)).record ? true : undefined,
  );
  await service.stop('SIGKILL');
  const gone = await waitFor(
    'the registry entry to expire',
    async () => {
      const e = await readFleetEntry(redis.url, serviceId);
      return e.raw === null ? e : undefined;
    },
    { timeoutMs: 10_000 },
  );
  expect(gone.record).toBeUndefined();
});
