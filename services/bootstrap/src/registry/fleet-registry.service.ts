import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type Redis from 'ioredis';
import type { Counter } from 'prom-client';
import { idToHex } from '../../../../libs/kademlia/src';
import { InjectConfig, MetricsService, REDIS_CLIENT, withSpan } from '../../../../libs/platform/src';
import type { BootstrapConfig } from '../bootstrap-service';
import { DhtNodeService } from '../dht/dht-node.service';
import type { FleetRecord } from './fleet-record';
import { FleetRegistry, type NodeReport } from './fleet-registry';

const INTERVAL_NAME = 'registry:heartbeat';
const SERVICE_VERSION = process.env.npm_package_version ?? '0.1.0';

/**
 * Publishes this node into the Redis fleet registry (registry/fleet-record.ts) every REGISTRY_HEARTBEAT_MS, with a
 * REGISTRY_TTL_MS expiry, and removes it on a clean stop. Without REDIS_URL the registry is disabled (logged once).
 * A Redis outage is logged when it starts and when it ends, counted per heartbeat, and never touches UDP service.
 */
@Injectable()
export class FleetRegistryService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('FleetRegistry');
  private readonly registry: FleetRegistry;
  private readonly heartbeats: Counter<'result'>;
  private failing = false;
  /** Kept from start-up: the DHT node may already be stopped when this service removes its entry. */
  private nodeId: string | undefined;
  private beating = false;

  constructor(
    @InjectConfig() private readonly config: BootstrapConfig,
    @Inject(REDIS_CLIENT) redis: Redis | null,
    private readonly node: DhtNodeService,
    private readonly scheduler: SchedulerRegistry,
    metrics: MetricsService,
  ) {
    this.registry = new FleetRegistry({
      redis: redis ?? undefined,
      ttlSeconds: Math.max(1, Math.ceil(config.REGISTRY_TTL_MS / 1000)),
      report: () => this.report(),
    });
    this.heartbeats = metrics.counter({
      name: 'fleet_registry_heartbeats_total',
      help: 'Heartbeats into the Redis fleet registry, by result (ok, error).',
      labelNames: ['result'],
    });
  }

  /** This node as the registry shows it (also served at GET /status). */
  record(): FleetRecord {
    return this.registry.record();
  }

  get enabled(): boolean {
    return this.registry.enabled;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.nodeId = idToHex(this.node.dht.nodeId);
    if (!this.registry.enabled) {
      this.logger.log('REDIS_URL is not set: fleet registry disabled');
      return;
    }
    if (this.config.REGISTRY_TTL_MS <= this.config.REGISTRY_HEARTBEAT_MS) {
      this.logger.warn(
        'REGISTRY_TTL_MS is not above REGISTRY_HEARTBEAT_MS: the entry will flicker between heartbeats',
      );
    }
    await this.beat();
    this.scheduler.addInterval(
      INTERVAL_NAME,
      setInterval(() => void this.beat(), this.config.REGISTRY_HEARTBEAT_MS),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.scheduler.doesExist('interval', INTERVAL_NAME)) this.scheduler.deleteInterval(INTERVAL_NAME);
    const nodeId = this.nodeId;
    if (!this.registry.enabled || !nodeId) return;
    await Promise.race([
      this.registry.remove(nodeId).catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 1_000).unref()),
    ]);
  }

  /** One heartbeat; never rejects. */
  async beat(): Promise<void> {
    if (this.beating || !this.node.isRunning) return;
    this.beating = true;
    try {
      await withSpan('fleet.heartbeat', {}, () => this.registry.heartbeat());
      this.heartbeats.inc({ result: 'ok' });
      if (this.failing) this.logger.log('fleet registry heartbeats succeed again');
      this.failing = false;
    } catch (err) {
      this.heartbeats.inc({ result: 'error' });
      if (!this.failing) {
        this.logger.warn(
          `fleet registry heartbeat failed (${err instanceof Error ? err.message : String(err)}); retrying`,
        );
      }
      this.failing = true;
    } finally {
      this.beating = false;
    }
  }

  private report(): NodeReport {
    const dht = this.node.dht;
    const stats = dht.stats();
    const received = (stats.rpc as { requestsReceived: Record<string, number> }).requestsReceived;
    return {
      nodeId: idToHex(dht.nodeId),
      publicKey: Buffer.from(dht.publicKey).toString('hex'),
      region: this.config.DHT_REGION,
      advertisedAddress: this.node.advertised,
      httpUrl: this.config.PUBLIC_HTTP_URL,
      version: SERVICE_VERSION,
      startedAtMs: this.node.startedAtMs,
      tableSize: stats.tableSize,
      bufferSize: stats.bootstrapBuffer?.size,
      bufferVerified: stats.bootstrapBuffer?.verified,
      sessions: (stats.session as { peers?: number } | undefined)?.peers,
      requestsReceived: Object.values(received).reduce((a, b) => a + b, 0),
      lookups: stats.lookups.node + stats.lookups.value,
      lookupsConverged: stats.lookups.converged,
    };
  }
}
