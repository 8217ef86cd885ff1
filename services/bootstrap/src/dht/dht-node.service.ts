import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { KademliaDHT, idToHex, loadOrCreateIdentity } from '../../../../libs/kademlia/src';
import { InjectConfig, MetricsService, withSpan } from '../../../../libs/platform/src';
import type { BootstrapConfig } from '../bootstrap-service';
import { DhtMetrics } from './dht-metrics';
import { advertisedAddress, bootstrapEntries, bootstrapNodeOptions, dataPaths } from './node-options';

/**
 * The service's DHT node, in bootstrap role: identity from the key file (generated and persisted on first start),
 * warm start from the snapshot in DHT_DATA_DIR, joins the rest of the fleet (DHT_BOOTSTRAP) and keeps retrying in
 * the background if none answers. Stopped before the HTTP server closes, which writes the final snapshot.
 */
@Injectable()
export class DhtNodeService implements OnModuleInit, BeforeApplicationShutdown {
  readonly metrics: DhtMetrics;
  private readonly logger = new Logger('Dht');
  private node: KademliaDHT | undefined;
  private started: { atMs: number; advertised: string } | undefined;

  constructor(
    @InjectConfig() private readonly config: BootstrapConfig,
    metrics: MetricsService,
  ) {
    this.metrics = new DhtMetrics(metrics);
  }

  /** The running node; throws before start-up finished or after shutdown began. */
  get dht(): KademliaDHT {
    if (!this.node?.isRunning) throw new Error('the DHT node is not running');
    return this.node;
  }

  get isRunning(): boolean {
    return this.node?.isRunning === true;
  }

  get startedAtMs(): number {
    return this.started?.atMs ?? Date.now();
  }

  get advertised(): string {
    return this.started?.advertised ?? '';
  }

  async onModuleInit(): Promise<void> {
    const config = this.config;
    const paths = dataPaths(config);
    const identity = await loadOrCreateIdentity(paths.keyFile);
    const node = new KademliaDHT({ ...bootstrapNodeOptions(config, this.metrics), identity });
    node.on('warning', (err) => this.logger.warn(`dht: ${err.message}`));
    node.on('bootstrapped', (e) => this.logger.log(`joined the network: ${JSON.stringify(e)}`));
    node.on('bootstrapFailed', (err) =>
      this.logger.warn(`no bootstrap entry answered yet (${err.message}); retrying`),
    );
    node.on('peerBanned', (e) =>
      this.logger.warn(`banned ${e.source} until ${new Date(e.untilMs).toISOString()} (${e.reason})`),
    );
    node.on('loadLevelChanged', (c) =>
      this.logger.warn(`load-shedding level ${c.from} -> ${c.to} (${c.cause})`),
    );
    const entries = bootstrapEntries(config);
    // The join (pinging snapshot and fleet peers, lookups) can take many seconds when saved peers are dead. HTTP
    // must not wait for it, or liveness probes would kill a node that is only warming up: start-up waits until the
    // socket is bound, the join finishes in the background, and readiness reports when the table is populated.
    const joining = withSpan('dht.start', { 'dht.bootstrap_entries': entries.length }, () =>
      node.start(entries),
    );
    await untilBoundOrFailed(node, joining);
    this.node = node;
    this.metrics.attach(node);
    const bound = node.address();
    const advertised = advertisedAddress(config, bound.port);
    this.started = { atMs: Date.now(), advertised };
    this.logger.log(
      `DHT node ${idToHex(node.nodeId)} (${config.DHT_REGION}) on udp ${bound.address}:${bound.port}, ` +
        `advertised as ${Buffer.from(node.publicKey).toString('hex')}@${advertised}`,
    );
    joining.then(
      (report) =>
        this.logger.log(
          `${report.tried === 0 ? 'join done: founding a new network' : report.bootstrapped ? 'join done' : 'join incomplete, retrying in the background'}; ` +
            `table ${report.tableSize}`,
        ),
      (err) => this.logger.error(`DHT start failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    const node = this.node;
    if (!node) return;
    await node.stop();
    this.metrics.attach(undefined);
    this.logger.log('DHT node stopped, snapshot written');
  }
}

/** Resolves once start() has bound the socket (the node reports running), or rejects as start() does. */
async function untilBoundOrFailed(node: KademliaDHT, starting: Promise<unknown>): Promise<void> {
  let failure: unknown;
  let settled = false;
  starting.then(
    () => (settled = true),
    (err: unknown) => {
      failure = err;
      settled = true;
    },
  );
  while (!node.isRunning && !settled) await new Promise((resolve) => setTimeout(resolve, 5));
  if (failure !== undefined) throw failure;
}
