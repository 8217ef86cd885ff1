import { readFile } from 'node:fs/promises';
import { DEFAULTS } from '../config/defaults';
import { writeFileAtomic } from '../io/atomic-file';
import { randomIdAtPrefixLength, sharedPrefixLength } from '../id/node-id';
import { loadSnapshot, saveSnapshot } from '../routing/snapshot';
import type { PeerAddress } from '../session/session-layer';
import { wireRecordOf } from '../store/wire-record';
import { MessageType } from '../wire/messages';
import { mapBounded } from './map-bounded';
import type { NodeRuntime } from './node-runtime';
import type { PeriodicTask } from './periodic-tasks';
import { putToClosest } from './value-ops';

/**
 * The work a node does besides answering requests: filling its table on join, refreshing idle buckets,
 * revalidating stale entries, replicating and republishing records, expiring them, and snapshotting the table.
 */
export class NodeMaintenance {
  constructor(private readonly node: NodeRuntime) {}

  /** The periodic tasks, driven by one PeriodicTasks timer. */
  tasks(): PeriodicTask[] {
    const o = this.node.options;
    const tasks: PeriodicTask[] = [
      { name: 'expire', everyMs: o.maintenanceIntervalMs, run: () => this.node.store.expire() },
      { name: 'refresh-buckets', everyMs: o.maintenanceIntervalMs, run: () => this.refreshIdleBuckets() },
      {
        name: 'self-lookup',
        everyMs: o.selfLookupMs,
        run: () => this.lookupQuietly(this.node.identity.nodeId),
      },
      { name: 'revalidate', everyMs: DEFAULTS.revalidateMs, run: () => this.revalidateStalest() },
      // Checked every minute (or sooner); each record is due on its own hourly / 22-hourly schedule.
      {
        name: 'replicate',
        everyMs: Math.min(o.replicateMs, 60_000),
        run: () => this.replicate(o.replicateMs),
      },
      { name: 'republish', everyMs: Math.min(o.republishMs, 60_000), run: () => this.republish() },
    ];
    if (o.snapshotPath)
      tasks.push({ name: 'snapshot', everyMs: DEFAULTS.snapshotMs, run: () => this.writeSnapshot() });
    const role = this.node.bootstrapRole;
    if (role) {
      tasks.push({
        name: 'verify-buffer',
        everyMs: DEFAULTS.bootstrapBuffer.verifyRoundMs,
        run: () => role.verifyRound(),
      });
    }
    return tasks;
  }

  /**
   * Fills a fresh table: a self-lookup finds our neighbourhood, then (with joinRefresh) one lookup per
   * log-distance range farther than our closest neighbour fills the far buckets (the paper's join procedure).
   */
  async populate(): Promise<void> {
    const localId = this.node.identity.nodeId;
    await this.lookupQuietly(localId);
    if (!this.node.options.joinRefresh) return;
    const nearest = this.node.table.closest(localId, 1)[0];
    if (!nearest) return;
    const depth = sharedPrefixLength(localId, nearest.id);
    const targets = Array.from({ length: depth }, (_, cpl) => randomIdAtPrefixLength(localId, cpl));
    await mapBounded(targets, DEFAULTS.alpha, (target) => this.lookupQuietly(target));
  }

  /** Contacts saved by the last run, to be re-verified (pinged) before they enter the table. */
  async snapshotPeers(): Promise<PeerAddress[]> {
    const path = this.node.options.snapshotPath;
    if (!path) return [];
    const contacts = await loadSnapshot(path);
    return contacts.map((c) => ({ endpoint: { host: c.host, port: c.port }, publicKey: c.publicKey }));
  }

  async writeSnapshot(): Promise<void> {
    const path = this.node.options.snapshotPath;
    if (!path) return;
    await saveSnapshot(path, [...this.node.table.entries()]);
    const role = this.node.bootstrapRole;
    if (role) await writeFileAtomic(bufferSnapshotPath(path), role.snapshot());
  }

  /**
   * The bootstrap buffer as the last run left it: a restarted bootstrap node hands out verified contacts at once
   * (old entries come back suspect and are pinged first). No file is a cold start; a bad file rejects with
   * SNAPSHOT_INVALID and leaves the buffer empty.
   */
  async restoreBuffer(): Promise<{ loaded: number; skipped: number }> {
    const path = this.node.options.snapshotPath;
    const role = this.node.bootstrapRole;
    if (!path || !role) return { loaded: 0, skipped: 0 };
    let bytes: Uint8Array;
    try {
      bytes = await readFile(bufferSnapshotPath(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { loaded: 0, skipped: 0 };
      throw err;
    }
    return role.restore(bytes);
  }

  /** Pushes records we hold to the current k closest, so they survive the churn of their holders. */
  async replicate(intervalMs: number): Promise<{ records: number }> {
    const { store, options } = this.node;
    const due = store.dueForReplication(intervalMs, DEFAULTS.replicationBatch);
    await mapBounded(due, DEFAULTS.alpha, async (record) => {
      const ttlSeconds = Math.floor((record.expiresAt - options.clock.now()) / 1000);
      if (ttlSeconds < 1) return;
      const wire = wireRecordOf(record, ttlSeconds);
      await putToClosest(this.node.valueOps(), { record: wire, signal: this.node.lifetime.signal }).catch(
        () => undefined,
      );
      store.markReplicated(record.key);
    });
    return { records: due.length };
  }

  /** The publisher re-stores its own records before their TTL runs out, for as long as it runs. */
  async republish(): Promise<void> {
    const { published, store } = this.node;
    const due = published.dueForRepublish(this.node.options.republishMs).slice(0, DEFAULTS.replicationBatch);
    await mapBounded(due, DEFAULTS.alpha, async (record) => {
      store.put({ ...record, origin: 'publish' });
      const wire = wireRecordOf(record, Math.ceil(record.ttlMs / 1000));
      await putToClosest(this.node.valueOps(), { record: wire, signal: this.node.lifetime.signal }).catch(
        () => undefined,
      );
      published.markRepublished(record.key);
    });
  }

  /**
   * Pings the entry heard from least recently (if not heard from within recentlySeenMs). Independent of traffic,
   * this finds dead entries before lookups trip over them (discv5's revalidation); failures evict as usual.
   */
  async revalidateStalest(): Promise<void> {
    const stalest = this.node.table.stalest();
    if (!stalest || this.node.options.clock.now() - stalest.lastSeen < DEFAULTS.recentlySeenMs) return;
    await this.node.request(stalest, { type: MessageType.PING }, { retries: 1 }).catch(() => undefined);
  }

  private async refreshIdleBuckets(): Promise<void> {
    await this.node.refillIfEmpty();
    const targets = this.node.table.refreshTargets(this.node.options.bucketRefreshMs);
    await mapBounded(targets, 1, (target) => this.lookupQuietly(target));
  }

  /** Maintenance lookups fail quietly: a refresh that finds nobody is retried on the next period. */
  private lookupQuietly(target: Uint8Array): Promise<unknown> {
    return this.node.lookup({ target, kind: 'node' }).catch(() => undefined);
  }
}

/** The bootstrap buffer's snapshot sits beside the routing table's. */
export function bufferSnapshotPath(tableSnapshotPath: string): string {
  return `${tableSnapshotPath}.buffer`;
}
