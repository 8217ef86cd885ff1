import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { idEquals, isNodeId, type NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import { CandidateList, type Candidate } from './candidate-list';

export interface LookupOptions {
  readonly target: NodeId;
  /** Where to start, usually the routing table's k closest to the target. Order does not matter. */
  readonly seeds: readonly Contact[];
  /** Results wanted; the lookup converges when the k closest candidates have all answered. */
  readonly k?: number;
  /** Requests in flight at once, not counting slow ones. */
  readonly alpha?: number;
  /** Requests sent at most (the RPC budget); Infinity is allowed and leaves the bound to the caller. */
  readonly maxRpcs?: number;
  /** Unqueried candidates kept at most (defaults to max(DEFAULTS.lookupMaxUnqueried, 4k)). */
  readonly maxUnqueried?: number;
  /** Our own ID: never queried, never returned, whoever mentions it. */
  readonly localId?: NodeId;
  /** Milliseconds, for stats.durationMs only; the lookup never sets timers. */
  readonly now?: () => number;
  /** Ownership shared with other lookups (DisjointLookup's paths); without it every node is ours to ask. */
  readonly claims?: LookupClaims;
}

/**
 * Lets several lookups split the nodes between them, each node asked by one lookup only. A node owned
 * elsewhere is, to this lookup, as if it had failed: skipped when learned, marked `failed` when found
 * unqueried (the claim may come after this lookup learned it), never asked nor returned, and never
 * counted in stats.failures.
 */
export interface LookupClaims {
  /** True when another lookup has claimed `id`. */
  isForeign(id: NodeId): boolean;
  /** Called for each contact nextRequests() hands out, so the others leave it alone. */
  claim(id: NodeId): void;
}

export type LookupFinishReason = 'converged' | 'exhausted' | 'budget';

export interface LookupStats {
  /** Requests handed out by nextRequests(). */
  readonly requests: number;
  readonly responses: number;
  readonly failures: number;
  /** Requests reported slow (each request at most once). */
  readonly slow: number;
  /** The largest hop count among nodes that answered; grows like log N in a healthy network. */
  readonly maxHops: number;
  /** From construction to finish, when `now` was given and the lookup is done. */
  readonly durationMs?: number;
}

/**
 * One iterative Kademlia lookup as a sans-IO state machine: it decides whom to ask, the node performs
 * the requests and reports back. No sockets, no timers, no promises; tests drive it with plain calls.
 *
 * Semantics:
 * - Candidates are every contact learned (seeds and replies), deduplicated by ID, never `localId`.
 *   Each is unqueried, in flight, slow (in flight past its short timeout), responded or failed.
 *   Only the nearest `maxUnqueried` unqueried ones are kept; queried ones are never dropped.
 * - At most `alpha` requests are in flight that are not slow, and the nearest unqueried candidates go
 *   first. A candidate is only asked while fewer than k answered nodes are nearer to the target than it:
 *   asking one farther out cannot change the result.
 * - Converged: the k nearest non-failed candidates have all answered (nothing unqueried, in flight or
 *   slow is nearer than the k-th answered node), or fewer than k answered and nothing else is left.
 *   Exhausted: nothing is left and nobody answered. Budget: `maxRpcs` requests were sent and none is
 *   still in flight. Requests still in flight when it converges are farther out and cannot change the
 *   result; the caller may abort them.
 * - The result is the k nearest nodes that answered, so every returned contact is known to be live.
 * - Events for unknown IDs, for requests not in flight, and every event after finishing are ignored, so
 *   a late or spoofed reply cannot change a finished result.
 */
export class ClosestLookup {
  readonly target: NodeId;
  private readonly k: number;
  private readonly alpha: number;
  private readonly maxRpcs: number;
  private readonly localId: NodeId | undefined;
  private readonly claims: LookupClaims | undefined;
  private readonly now: (() => number) | undefined;
  private readonly startedAt: number | undefined;
  private readonly candidates: CandidateList;
  private readonly counters: { -readonly [K in keyof LookupStats]: LookupStats[K] } = {
    requests: 0,
    responses: 0,
    failures: 0,
    slow: 0,
    maxHops: 0,
  };
  private reason: LookupFinishReason | undefined;

  constructor(options: LookupOptions) {
    if (!isNodeId(options.target)) throw invalid('target must be a 20-byte NodeId');
    this.target = options.target;
    this.k = options.k ?? DEFAULTS.k;
    this.alpha = options.alpha ?? DEFAULTS.alpha;
    this.maxRpcs = options.maxRpcs ?? DEFAULTS.lookupMaxRpcs;
    const maxUnqueried = options.maxUnqueried ?? Math.max(DEFAULTS.lookupMaxUnqueried, 4 * this.k);
    requirePositiveInteger('k', this.k);
    requirePositiveInteger('alpha', this.alpha);
    requirePositiveInteger('maxUnqueried', maxUnqueried);
    if (!(this.maxRpcs === Infinity || (Number.isInteger(this.maxRpcs) && this.maxRpcs >= 0)))
      throw invalid(`maxRpcs must be a non-negative integer or Infinity, got ${this.maxRpcs}`);
    this.localId = options.localId;
    this.claims = options.claims;
    this.now = options.now;
    this.startedAt = options.now?.();
    this.candidates = new CandidateList({ target: this.target, maxUnqueried });
    for (const seed of options.seeds) this.learn(seed, 1);
    this.checkFinished();
  }

  get stats(): LookupStats {
    return this.counters;
  }

  get finishReason(): LookupFinishReason | undefined {
    return this.reason;
  }

  /** Candidates currently held (answered, failed, in flight and unqueried); bounded, see the class notes. */
  get candidateCount(): number {
    return this.candidates.size;
  }

  isDone(): boolean {
    return this.reason !== undefined;
  }

  /**
   * Contacts to send a request to now, nearest first; they are marked in flight. Call after construction
   * and after every event. Empty when alpha requests are in flight, the budget is spent or it is done.
   */
  nextRequests(): Contact[] {
    const out: Contact[] = [];
    if (this.reason) return out;
    let answeredNearer = 0;
    let active = this.candidates.count('inFlight');
    for (const candidate of this.candidates) {
      if (answeredNearer >= this.k || active >= this.alpha || this.counters.requests >= this.maxRpcs) break;
      if (candidate.state === 'responded') answeredNearer++;
      else if (candidate.state === 'unqueried' && !this.dropIfForeign(candidate)) {
        this.claims?.claim(candidate.contact.id);
        this.candidates.setState(candidate, 'inFlight');
        this.counters.requests++;
        active++;
        out.push(candidate.contact);
      }
    }
    // Skipping nodes owned elsewhere may have left nothing nearer to ask.
    if (this.claims) this.checkFinished();
    return out;
  }

  /** `from` answered with `contacts` (new candidates; ourselves, duplicates and malformed ones are skipped). */
  onResponse(from: NodeId, contacts: readonly Contact[]): void {
    const candidate = this.inFlight(from);
    if (!candidate) return;
    this.candidates.setState(candidate, 'responded');
    this.counters.responses++;
    if (candidate.hop > this.counters.maxHops) this.counters.maxHops = candidate.hop;
    for (const contact of contacts) this.learn(contact, candidate.hop + 1);
    this.checkFinished();
  }

  /** The request to `from` timed out or failed; it is never asked again nor returned. */
  onFailure(from: NodeId): void {
    const candidate = this.inFlight(from);
    if (!candidate) return;
    this.candidates.setState(candidate, 'failed');
    this.counters.failures++;
    this.checkFinished();
  }

  /** The request to `from` passed its short timeout: still awaited, but it frees its alpha slot. */
  onSlow(from: NodeId): void {
    if (this.reason) return;
    const candidate = this.candidates.get(from);
    if (candidate?.state !== 'inFlight') return;
    this.candidates.setState(candidate, 'slow');
    this.counters.slow++;
  }

  /** The k nearest contacts that answered, nearest first (the lookup's result, also while it runs). */
  closest(): Contact[] {
    const out: Contact[] = [];
    for (const candidate of this.candidates) {
      if (out.length >= this.k) break;
      if (candidate.state === 'responded') out.push(candidate.contact);
    }
    return out;
  }

  private inFlight(id: NodeId): Candidate | undefined {
    if (this.reason || !isNodeId(id)) return undefined;
    const candidate = this.candidates.get(id);
    return candidate?.state === 'inFlight' || candidate?.state === 'slow' ? candidate : undefined;
  }

  // Replies come from the network: a malformed entry is skipped rather than trusted or thrown on.
  private learn(contact: Contact, hop: number): void {
    if (!contact || !isNodeId(contact.id)) return;
    if (this.localId && idEquals(contact.id, this.localId)) return;
    if (this.claims?.isForeign(contact.id)) return;
    this.candidates.add(contact, hop);
  }

  /** Marks an unqueried candidate owned elsewhere as out of reach (failed, but not counted as a failure). */
  private dropIfForeign(candidate: Candidate): boolean {
    if (!this.claims?.isForeign(candidate.contact.id)) return false;
    this.candidates.setState(candidate, 'failed');
    return true;
  }

  /**
   * Re-evaluates convergence. Events do it themselves; with shared claims the owner calls it after other
   * lookups' requests, because their claims can finish this one without an event of its own.
   */
  checkFinished(): void {
    if (this.reason) return;
    let answered = 0;
    for (const candidate of this.candidates) {
      if (answered >= this.k) break;
      if (candidate.state === 'responded') answered++;
      else if (candidate.state === 'unqueried' && this.dropIfForeign(candidate)) continue;
      else if (candidate.state !== 'failed') return this.checkBudget();
    }
    this.finish(answered === 0 ? 'exhausted' : 'converged');
  }

  // Something nearer than the k-th answer is still pending; only a spent budget with nothing left in
  // flight ends the lookup now (no reply can come, and no request may be sent).
  private checkBudget(): void {
    const awaited = this.candidates.count('inFlight') + this.candidates.count('slow');
    if (this.counters.requests >= this.maxRpcs && awaited === 0) this.finish('budget');
  }

  private finish(reason: LookupFinishReason): void {
    this.reason = reason;
    if (this.now && this.startedAt !== undefined) this.counters.durationMs = this.now() - this.startedAt;
  }
}

function invalid(message: string): KademliaError {
  return new KademliaError(message, 'CONFIG_INVALID');
}

function requirePositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw invalid(`${name} must be a positive integer, got ${value}`);
}
