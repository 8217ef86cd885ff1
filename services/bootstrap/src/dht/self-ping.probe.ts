import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { KademliaDHT } from '../../../../libs/kademlia/src';
import { InjectConfig, ReadinessRegistry } from '../../../../libs/platform/src';
import type { BootstrapConfig } from '../bootstrap-service';
import { BOOTSTRAP_DEFAULTS } from '../config/bootstrap-env';
import { DhtNodeService } from './dht-node.service';
import { selfPingTarget } from './node-options';

interface PingResult {
  readonly ok: boolean;
  readonly atMs: number;
  readonly rttMs?: number;
  readonly error?: string;
}

const INTERVAL_NAME = 'dht:self-ping';

/**
 * Readiness of the DHT, for probes that cannot speak UDP (Kubernetes, DNS health checks): a client-mode node in
 * this process pings the service's own UDP socket over the real network stack, through an encrypted session pinned
 * to the node's key, every few seconds. `/health/ready` reads the last result (cheap, never blocks on the
 * network) and also needs the routing table to be populated.
 */
@Injectable()
export class SelfPingProbe implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SelfPing');
  private client: KademliaDHT | undefined;
  private last: PingResult | undefined;
  private running = false;

  constructor(
    @InjectConfig() private readonly config: BootstrapConfig,
    private readonly node: DhtNodeService,
    private readonly readiness: ReadinessRegistry,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const loopback = this.config.DHT_BIND_ADDRESS.includes(':') ? '::1' : '127.0.0.1';
    const bind = ['0.0.0.0', '::'].includes(this.config.DHT_BIND_ADDRESS)
      ? loopback
      : this.config.DHT_BIND_ADDRESS;
    this.client = new KademliaDHT({
      bindAddress: bind,
      bindPort: 0,
      clientMode: true,
      maintenance: 'external',
      loadShedding: false,
    });
    await this.client.start([]);
    this.readiness.register('dht', () => this.check());
    await this.pingOnce();
    this.scheduler.addInterval(
      INTERVAL_NAME,
      setInterval(() => void this.pingOnce(), BOOTSTRAP_DEFAULTS.selfPingIntervalMs),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.scheduler.doesExist('interval', INTERVAL_NAME)) this.scheduler.deleteInterval(INTERVAL_NAME);
    await this.client?.stop();
  }

  /** The readiness check: throws (not ready) with the reason, or returns what it saw. */
  private check(): Record<string, unknown> {
    if (!this.node.isRunning) throw new Error('the DHT node is not running');
    const last = this.last;
    const maxAgeMs = 3 * BOOTSTRAP_DEFAULTS.selfPingIntervalMs;
    if (!last) throw new Error('no self-ping yet');
    if (!last.ok) throw new Error(`self-ping over UDP failed: ${last.error ?? 'no answer'}`);
    if (Date.now() - last.atMs > maxAgeMs) throw new Error('no successful self-ping recently');
    const stats = this.node.dht.stats();
    if (stats.tableSize === 0) throw new Error('routing table is empty: no peer has been met yet');
    return {
      selfPingRttMs: last.rttMs,
      tableSize: stats.tableSize,
      bufferVerified: stats.bootstrapBuffer?.verified ?? 0,
    };
  }

  private async pingOnce(): Promise<void> {
    if (this.running || !this.client?.isRunning || !this.node.isRunning) return;
    this.running = true;
    const dht = this.node.dht;
    const target = `${Buffer.from(dht.publicKey).toString('hex')}@${selfPingTarget(this.config, dht.address().port)}`;
    try {
      const { rttMs } = await this.client.ping(target, {
        signal: AbortSignal.timeout(BOOTSTRAP_DEFAULTS.selfPingIntervalMs),
      });
      if (this.last && !this.last.ok) this.logger.log('self-ping answered again');
      this.last = { ok: true, atMs: Date.now(), rttMs };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (!this.last || this.last.ok) this.logger.warn(`self-ping over UDP failed: ${error}`);
      this.last = { ok: false, atMs: Date.now(), error };
    } finally {
      this.running = false;
    }
  }
}
