import type { Clock } from '../clock';
import { KademliaError } from '../errors';
import type { PeerAddress } from '../session/session-layer';
import { resolveBootstrapEntries, type BootstrapEntry } from './bootstrap-entries';
import type { KademliaEventMap } from './events';

export interface JoinHost {
  readonly clock: Clock;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly signal: AbortSignal;
  /** Jitter source in [0, 1); Math.random when absent. Simulations pass a seeded one so runs repeat. */
  readonly random?: () => number;
  tableSize(): number;
  /** Contacts from the routing-table snapshot, re-verified by ping like bootstrap nodes. */
  snapshotPeers(): Promise<PeerAddress[]>;
  ping(peer: PeerAddress, signal: AbortSignal): Promise<unknown>;
  /** Self-lookup followed by a lookup per log-distance range up to our closest neighbour. */
  populate(): Promise<void>;
  emit<E extends keyof KademliaEventMap>(event: E, ...args: KademliaEventMap[E]): boolean;
}

export interface JoinReport {
  readonly bootstrapped: boolean;
  readonly answered: number;
  readonly tried: number;
  readonly tableSize: number;
}

/**
 * Joins the network: every address of every bootstrap entry (and every snapshot contact) is pinged, in every
 * round; whoever answers enters the routing table, then lookups fill it. With no answer, retries with jittered
 * exponential backoff: `attempts` rounds before resolving with bootstrapped=false, then forever in the background
 * until the node joins or stops, so a client that started offline recovers on its own.
 */
export async function joinNetwork(
  host: JoinHost,
  input: { entries: readonly BootstrapEntry[]; attempts: number },
): Promise<JoinReport> {
  const snapshot = await host.snapshotPeers();
  if (input.entries.length === 0 && snapshot.length === 0) {
    return { bootstrapped: true, answered: 0, tried: 0, tableSize: host.tableSize() };
  }
  let last: JoinReport = { bootstrapped: false, answered: 0, tried: 0, tableSize: 0 };
  for (let attempt = 1; ; attempt++) {
    if (host.signal.aborted) return last;
    // Snapshot contacts stay in every round: when our own network came up late, they are as likely to answer
    // as the bootstrap entries, and they may be all we have.
    last = await joinOnce(host, { entries: input.entries, snapshot });
    if (last.bootstrapped) {
      host.emit('bootstrapped', { ...last, attempt });
      return last;
    }
    if (attempt === input.attempts) {
      host.emit(
        'bootstrapFailed',
        new KademliaError(
          `no bootstrap node answered after ${attempt} attempts; retrying in background`,
          'BOOTSTRAP_FAILED',
          {
            tried: last.tried,
          },
        ),
      );
      void retryInBackground(host, { entries: input.entries, snapshot, attempt: attempt + 1 });
      return last;
    }
    await sleep(host, backoffMs(host, attempt));
  }
}

async function retryInBackground(
  host: JoinHost,
  input: { entries: readonly BootstrapEntry[]; snapshot: readonly PeerAddress[]; attempt: number },
) {
  for (let attempt = input.attempt; !host.signal.aborted; attempt++) {
    // The wait before attempt n follows attempt n-1, as in the foreground loop: the doubling goes on unbroken.
    await sleep(host, backoffMs(host, attempt - 1));
    if (host.signal.aborted) return;
    if (host.tableSize() > 0) return; // someone found us meanwhile; maintenance takes it from here
    try {
      const report = await joinOnce(host, { entries: input.entries, snapshot: input.snapshot });
      if (report.bootstrapped) {
        host.emit('bootstrapped', { ...report, attempt });
        return;
      }
    } catch (err) {
      if (!host.signal.aborted) host.emit('warning', err as Error);
    }
  }
}

/**
 * One join round through the bootstrap entries, for a node whose routing table has emptied after it had joined
 * (every contact failed, e.g. behind a congested link): without it, such a node could never look anything up
 * again, since lookups start from the table. Callers bound how often they ask.
 */
export function rejoinOnce(host: JoinHost, entries: readonly BootstrapEntry[]): Promise<JoinReport> {
  return joinOnce(host, { entries, snapshot: [] });
}

async function joinOnce(
  host: JoinHost,
  input: { entries: readonly BootstrapEntry[]; snapshot: readonly PeerAddress[] },
): Promise<JoinReport> {
  const { peers } = await resolveBootstrapEntries(input.entries);
  const all = [...peers, ...input.snapshot];
  const answers = await Promise.allSettled(all.map((peer) => host.ping(peer, host.signal)));
  const answered = answers.filter((a) => a.status === 'fulfilled').length;
  if (answered > 0 && !host.signal.aborted) await host.populate();
  return { bootstrapped: answered > 0, answered, tried: all.length, tableSize: host.tableSize() };
}

/** The wait after a failed attempt n: retryMinMs doubled n-1 times, capped, then jittered into [base/2, base). */
function backoffMs(host: JoinHost, attempt: number): number {
  const base = Math.min(host.retryMaxMs, host.retryMinMs * 2 ** (attempt - 1));
  // Jitter keeps a fleet of clients that lost the network at once from retrying in lockstep.
  const random = host.random ?? Math.random;
  return base / 2 + random() * (base / 2);
}

function sleep(host: JoinHost, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (host.signal.aborted) return resolve();
    const timer = host.clock.setTimeout(done, ms);
    timer.unref?.();
    host.signal.addEventListener('abort', done, { once: true });
    function done() {
      host.clock.clearTimeout(timer);
      host.signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
