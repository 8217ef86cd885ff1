import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Counter, Histogram } from 'prom-client';
import type { MaintenanceTaskName } from '../../../../libs/kademlia/src';
import { InjectConfig, MetricsService, withSpan } from '../../../../libs/platform/src';
import type { BootstrapConfig } from '../bootstrap-service';
import { DhtNodeService } from '../dht/dht-node.service';

/**
 * The DHT node's maintenance on @nestjs/schedule intervals (the node runs with maintenance: 'external'): bucket
 * refresh, self-lookup, revalidation, replication, republish, expiry, table + buffer snapshots and the buffer's
 * verification rounds. Periods are the library's, except the two the operator tunes. A task never overlaps
 * itself; each run is a span and is counted by result.
 */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Maintenance');
  private readonly running = new Set<string>();
  private readonly names: string[] = [];
  private readonly runs: Counter<'task' | 'result'>;
  private readonly seconds: Histogram<'task'>;

  constructor(
    @InjectConfig() private readonly config: BootstrapConfig,
    private readonly node: DhtNodeService,
    private readonly scheduler: SchedulerRegistry,
    metrics: MetricsService,
  ) {
    this.runs = metrics.counter({
      name: 'kad_maintenance_runs_total',
      help: 'Maintenance task runs, by task and result (ok, error).',
      labelNames: ['task', 'result'],
    });
    this.seconds = metrics.histogram({
      name: 'kad_maintenance_duration_seconds',
      help: 'Duration of maintenance task runs.',
      labelNames: ['task'],
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60],
    });
  }

  onApplicationBootstrap(): void {
    const overrides: Partial<Record<MaintenanceTaskName, number>> = {
      snapshot: this.config.DHT_SNAPSHOT_INTERVAL_MS,
      'verify-buffer': this.config.DHT_BUFFER_VERIFY_INTERVAL_MS,
    };
    for (const task of this.node.dht.maintenanceSchedule()) {
      const everyMs = overrides[task.name] ?? task.everyMs;
      const name = `dht:${task.name}`;
      this.scheduler.addInterval(
        name,
        setInterval(() => void this.run(task.name), everyMs),
      );
      this.names.push(name);
    }
    this.logger.log(`scheduled ${this.names.map((n) => n.slice(4)).join(', ')}`);
  }

  beforeApplicationShutdown(): void {
    for (const name of this.names.splice(0)) {
      if (this.scheduler.doesExist('interval', name)) this.scheduler.deleteInterval(name);
    }
  }

  /** Runs one task now (also used by tests); resolves when it finished or was skipped. */
  async run(task: MaintenanceTaskName): Promise<'ok' | 'error' | 'skipped'> {
    if (this.running.has(task) || !this.node.isRunning) return 'skipped';
    this.running.add(task);
    const end = this.seconds.startTimer({ task });
    try {
      await withSpan(`dht.maintenance.${task}`, { 'dht.task': task }, () =>
        this.node.dht.runMaintenance(task),
      );
      this.runs.inc({ task, result: 'ok' });
      return 'ok';
    } catch (err) {
      this.runs.inc({ task, result: 'error' });
      if (this.node.isRunning)
        this.logger.warn(`${task} failed: ${err instanceof Error ? err.message : String(err)}`);
      return 'error';
    } finally {
      end();
      this.running.delete(task);
    }
  }
}
