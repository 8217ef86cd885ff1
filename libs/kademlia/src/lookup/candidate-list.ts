import { compareDistance, type NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';

/**
 * Where a lookup candidate stands. `slow` is still in flight but past its short timeout: a late reply is
 * still welcome, it just no longer holds one of the alpha slots.
 */
export type CandidateState = 'unqueried' | 'inFlight' | 'slow' | 'responded' | 'failed';

export interface Candidate {
  readonly contact: Contact;
  readonly state: CandidateState;
  /** Hops from us: a seed is 1, a contact learned from a node at hop h is h + 1 (the shortest path seen). */
  readonly hop: number;
}

interface MutableCandidate {
  readonly contact: Contact;
  state: CandidateState;
  hop: number;
}

export interface CandidateListOptions {
  readonly target: NodeId;
  /** Unqueried candidates kept at most; past this the farthest unqueried one is dropped. */
  readonly maxUnqueried: number;
}

/**
 * The candidates of one lookup, sorted by XOR distance to the target, nearest first.
 *
 * XOR distance to a fixed target is a bijection, so two IDs are equal exactly when their distances are:
 * the binary search that finds the insertion point also deduplicates, no separate map is needed.
 *
 * Bounded: only `maxUnqueried` unqueried candidates are kept (the nearest ones). Queried candidates
 * (in flight, slow, responded, failed) are never dropped; there are at most as many as requests sent,
 * which the lookup's RPC budget caps. A failed node therefore stays known and is never asked twice.
 */
export class CandidateList {
  private readonly entries: MutableCandidate[] = [];
  private readonly counts: Record<CandidateState, number> = {
    unqueried: 0,
    inFlight: 0,
    slow: 0,
    responded: 0,
    failed: 0,
  };

  constructor(private readonly options: CandidateListOptions) {}

  get size(): number {
    return this.entries.length;
  }

  count(state: CandidateState): number {
    return this.counts[state];
  }

  /** Candidates nearest first. Changing states while iterating is fine; adding is not. */
  [Symbol.iterator](): Iterator<Candidate> {
    return this.entries[Symbol.iterator]();
  }

  get(id: NodeId): Candidate | undefined {
    const index = this.search(id);
    return index >= 0 ? this.entries[index] : undefined;
  }

  /**
   * Learns a contact as unqueried. A known ID keeps its first contact (a later, possibly hostile, answer
   * cannot swap the address of a node we already know) but takes the shorter hop count.
   */
  add(contact: Contact, hop: number): void {
    const index = this.search(contact.id);
    if (index >= 0) {
      const known = this.entries[index];
      if (hop < known.hop && known.state !== 'responded') known.hop = hop;
      return;
    }
    this.entries.splice(-index - 1, 0, { contact, state: 'unqueried', hop });
    this.counts.unqueried++;
    if (this.counts.unqueried > this.options.maxUnqueried) this.dropFarthestUnqueried();
  }

  setState(candidate: Candidate, state: CandidateState): void {
    const entry = candidate as MutableCandidate;
    this.counts[entry.state]--;
    this.counts[state]++;
    entry.state = state;
  }

  /** Index of `id`, or -(insertion point) - 1 when absent (Java's binarySearch convention). */
  private search(id: NodeId): number {
    const target = this.options.target;
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const order = compareDistance(target, this.entries[mid].contact.id, id);
      if (order === 0) return mid;
      if (order < 0) lo = mid + 1;
      else hi = mid;
    }
    return -lo - 1;
  }

  // Scans from the far end; only queried candidates (at most the RPC budget) can sit behind it.
  private dropFarthestUnqueried(): void {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i].state === 'unqueried') {
        this.entries.splice(i, 1);
        this.counts.unqueried--;
        return;
      }
    }
  }
}
