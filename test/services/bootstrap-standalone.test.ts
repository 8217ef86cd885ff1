/**
 * End-to-end: the bootstrap service as its own process without Redis (REDIS_URL unset), as on a laptop or when the
 * operator runs no dashboard; and the service refusing a bad configuration before it starts anything.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KademliaDHT, idFromHex, randomId, type NodeId } from '../../libs/kademlia/src';
import { findFreePort } from '../../libs/platform/src/testing';
import { BootstrapProcess, runBootstrapUntilExit } from './helpers/bootstrap-process';
import { PEER_OPTIONS, inexactLookups, startPeers, stopAll } from './helpers/client-peers';
import { waitFor } from './helpers/wait-for';

jest.setTimeout(30_000);

const PEERS = 8;

describe('without Redis', () => {
  let dataDir: string;
  let service: BootstrapProcess;
  let peers: KademliaDHT[] = [];
  let client: KademliaDHT | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kadfleet-bootstrap-noredis-'));
    service = await BootstrapProcess.start({ dataDir });
  }, 90_000);

  afterAll(async () => {
    await client?.stop().catch(() => undefined);
    await stopAll(peers);
    await service?.kill();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves UDP lookups and turns ready once peers joined, with the registry disabled', async () => {
    expect((await service.get('/health/ready')).status).toBe(503);

    peers = await startPeers({ count: PEERS, entry: service.dhtEntry, block: 72 });
    client = new KademliaDHT({ ...PEER_OPTIONS, bindAddress: '127.0.0.1', bindPort: 0 });
    expect((await client.start([service.dhtEntry])).bootstrapped).toBe(true);
    const status = await service.json<{ registry: string; node: { nodeId: string }; tableSize: number }>(
      '/status',
    );
    expect(status.registry).toBe('disabled');
    const network: NodeId[] = [idFromHex(status.node.nodeId), ...peers.map((p) => p.nodeId), client.nodeId];
    const targets = Array.from({ length: 3 }, () => randomId());
    expect(await inexactLookups({ client, network, targets })).toEqual([]);

    const ready = await waitFor('/health/ready 200', async () => {
      const reply = await service.get('/health/ready');
      return reply.status === 200 ? (JSON.parse(reply.body) as { info: Record<string, unknown> }) : undefined;
    });
    // Readiness without Redis is the DHT's alone.
    expect(Object.keys(ready.info)).toEqual(['dht']);
    expect((await service.get('/health/live')).status).toBe(200);
  });

  it('says once in its log that the fleet registry is disabled', () => {
    expect(service.logMessages('fleet registry disabled')).toHaveLength(1);
    // And nothing tries to reach a Redis that is not configured.
    expect(service.logMessages('Redis error')).toEqual([]);
  });
});

describe('with a bad configuration', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'kadfleet-bootstrap-badconfig-'));
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('exits non-zero with a message naming the variable, before creating anything', async () => {
    const exit = await runBootstrapUntilExit(
      {
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(await findFreePort()),
        DHT_BIND_ADDRESS: '127.0.0.1',
        DHT_PORT: '70000',
        DHT_DATA_DIR: dataDir,
      },
      60_000,
    );
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(exit.stderr).toContain('DHT_PORT');
    expect(exit.stderr).toContain('70000');
    // Validation comes first: no identity was generated for a service that never started.
    expect(existsSync(join(dataDir, 'identity.key'))).toBe(false);
  }, 70_000);
});
