import type { Clock } from '../clock';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import type { NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import { checkBufferSnapshot, encodeBufferSnapshot, readBufferSnapshot } from './buffer-snapshot';
import {
  ContactBuffer,
  type ContactBufferOptions,
  type ContactBufferStats,
  type OfferOutcome,
  type VerifyTask,
} from './contact-buffer';

const D = DEFAULTS.bootstrapBuffer;

export interface BootstrapRoleOptions extends Omit<ContactBufferOptions, 'now'> {
  clock: Clock;
  /**
   * Pings a contact; resolves true when the peer holding contact.publicKey answered from contact.host:port. Must
   * give up when signal aborts (the role also stops waiting then). A rejection counts as no answer.
   */
  ping: (contact: Contact, signal: AbortSignal) => Promise<boolean>;
  verifyConcurrency?: number;
  verifyRatePerSecond?: number;
  verifyTimeoutMs?: number;
  /** Snapshot entries older than this (age at save plus downtime) come back suspect: pinged before handed out. */
  restoreFreshMs?: number;
  /** Wall-clock ms for snapshot times (the monotonic clock restarts with the process); Date.now by default. */
  wallClock?: () => number;
}

export interface VerifyRoundReport {
  attempted: number;
  verified: number;
  moved: number;
  failed: number;
  removed: number;
  /** Pings cut short by close(); their contacts are handed out again later, not counted as failures. */
  aborted: number;
}

export interface BootstrapRoleStats extends ContactBufferStats {
  verifyRounds: number;
  pingsSent: number;
  pingsInFlight: number;
}

/**
 * Drives a ContactBuffer: pings what it asks for, within a concurrency and rate budget, each ping with a deadline
 * and abortable. The node calls offer() for contacts it meets, verifyRound() periodically, and answers FIND_NODE
 * with closest(). Time comes from the injected clock, pings from the injected function: specs run it on a fake
 * clock with scripted answers.
 */
export class BootstrapRole {
  readonly buffer: ContactBuffer;
  private readonly clock: Clock;
  private readonly ping: BootstrapRoleOptions['ping'];
  private readonly concurrency: number;
  private readonly ratePerSecond: number;
  private readonly timeoutMs: number;
  private readonly restoreFreshMs: number;
  private readonly wallClock: () => number;
  private readonly lifetime = new AbortController();
  private tokens: number;
  private refilledAt: number;
  private inFlight = 0;
  private rounds = 0;
  private pingsSent = 0;

  constructor(options: BootstrapRoleOptions) {
    const {
      clock,
      ping,
      verifyConcurrency,
      verifyRatePerSecond,
      verifyTimeoutMs,
      restoreFreshMs,
      wallClock,
      ...rest
    } = options;
    this.clock = clock;
    this.ping = ping;
    this.buffer = new ContactBuffer({ ...rest, now: () => clock.now() });
    this.concurrency = positive('verifyConcurrency', verifyConcurrency ?? D.verifyConcurrency);
    this.ratePerSecond = positive('verifyRatePerSecond', verifyRatePerSecond ?? D.verifyRatePerSecond);
    this.timeoutMs = positive('verifyTimeoutMs', verifyTimeoutMs ?? D.verifyTimeoutMs);
    this.restoreFreshMs = restoreFreshMs ?? D.restoreFreshMs;
    this.wallClock = wallClock ?? Date.now;
    // One second's worth of pings may go at once; a quiet spell does not bank a bigger burst.
    this.tokens = this.ratePerSecond;
    this.refilledAt = clock.now();
  }

  /** A contact met in traffic (an authenticated peer) or named in a NODES reply. */
  offer(contact: Contact): OfferOutcome {
    return this.buffer.offer(contact);
  }

  /** The k verified contacts closest to target (never `exclude`, normally the requester). */
  closest(target: NodeId, k: number, exclude?: NodeId): Contact[] {
    return this.buffer.closest(target, k, { exclude });
  }

  /**
   * One verification round: takes as many tasks as the rate budget and free concurrency allow, pings them all
   * at once, and resolves when every ping has answered, failed, timed out or been aborted by close().
   */
  async verifyRound(): Promise<VerifyRoundReport> {
    const report: VerifyRoundReport = {
      attempted: 0,
      verified: 0,
      moved: 0,
      failed: 0,
      removed: 0,
      aborted: 0,
    };
    if (this.lifetime.signal.aborted) return report;
    this.rounds++;
    const now = this.clock.now();
    this.tokens = Math.min(
      this.ratePerSecond,
      this.tokens + ((now - this.refilledAt) * this.ratePerSecond) / 1000,
    );
    this.refilledAt = now;
    const room = Math.min(Math.floor(this.tokens), this.concurrency - this.inFlight);
    if (room <= 0) return report;
    const tasks = this.buffer.nextToVerify(room);
    this.tokens -= tasks.length;
    report.attempted = tasks.length;
    await Promise.all(tasks.map((task) => this.verifyOne(task, report)));
    return report;
  }

  stats(): BootstrapRoleStats {
    return {
      ...this.buffer.stats(),
      verifyRounds: this.rounds,
      pingsSent: this.pingsSent,
      pingsInFlight: this.inFlight,
    };
  }

  /** The verified and suspect entries as bytes (see buffer-snapshot.ts); pending ones are not kept. */
  snapshot(): Uint8Array {
    return encodeBufferSnapshot({
      records: this.buffer.records(),
      maxEntries: this.buffer.size,
      savedAtMs: this.wallClock(),
    });
  }

  /**
   * Replaces the buffer's contents with a snapshot's. A malformed snapshot rejects with SNAPSHOT_INVALID and
   * leaves the buffer untouched; entries over capacity or over an address limit are skipped and counted.
   */
  restore(bytes: Uint8Array): { loaded: number; skipped: number } {
    const { savedAtMs } = checkBufferSnapshot(bytes);
    const downtimeSeconds = Math.max(0, (this.wallClock() - savedAtMs) / 1000);
    const freshSeconds = this.restoreFreshMs / 1000;
    const entries = readBufferSnapshot(bytes);
    const aged = (function* () {
      for (const entry of entries) {
        const ageSeconds = entry.ageSeconds + downtimeSeconds;
        // An entry not heard from for long is not handed out until it answers again.
        const failures = ageSeconds > freshSeconds ? Math.max(1, entry.failures) : entry.failures;
        yield { ...entry, ageSeconds, failures };
      }
    })();
    return this.buffer.load(aged);
  }

  /** Aborts every ping in flight; later rounds do nothing. */
  close(): void {
    this.lifetime.abort();
  }

  private async verifyOne(task: VerifyTask, report: VerifyRoundReport): Promise<void> {
    const controller = new AbortController();
    const onClose = () => controller.abort();
    this.lifetime.signal.addEventListener('abort', onClose, { once: true });
    const timer = this.clock.setTimeout(() => controller.abort(), this.timeoutMs);
    const gaveUp = new Promise<boolean>((resolve) =>
      controller.signal.addEventListener('abort', () => resolve(false), { once: true }),
    );
    const sentAt = this.clock.now();
    this.inFlight++;
    this.pingsSent++;
    let answered: boolean;
    try {
      answered = (await Promise.race([this.ping(task, controller.signal), gaveUp])) === true;
    } catch {
      answered = false;
    } finally {
      this.clock.clearTimeout(timer);
      this.lifetime.signal.removeEventListener('abort', onClose);
      this.inFlight--;
    }
    if (this.lifetime.signal.aborted && !answered) {
      this.buffer.release(task);
      report.aborted++;
      return;
    }
    if (answered) {
      const outcome = this.buffer.markVerified(task, this.clock.now() - sentAt);
      if (outcome === 'verified') report.verified++;
      else if (outcome === 'moved') report.moved++;
      return;
    }
    const outcome = this.buffer.markFailed(task);
    if (outcome === 'removed') report.removed++;
    else if (outcome === 'failed' || outcome === 'move_dropped') report.failed++;
  }
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new KademliaError(`${name} must be a positive number`, 'CONFIG_INVALID', { [name]: value });
  }
  return value;
}
