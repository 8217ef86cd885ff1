import { idEquals, isNodeId, type NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import { CandidateList, type Candidate } from './candidate-list';
import type { LookupFinishReason, LookupStats } from './closest-lookup';

/**
 * Which path asked which node, shared by the d paths of one DisjointLookup. A node is claimed by the first
 * path that sends it a request and by no other: that is what keeps the paths disjoint. Bounded by the
 * requests sent, which the per-path RPC budget caps.
 */
export class PathClaims {
  private readonly owners = new Map<string, number>();

  get size(): number {
    return this.owners.size;
  }

  ownerOf(id: NodeId): number | undefined {
    return this.owners.get(claimKey(id));
  }

  claim(id: NodeId, path: number): void {
    this.owners.set(claimKey(id), path);
  }
}

// latin1 maps each byte to one UTF-16 unit: a cheap, collision-free Map key for a 20-byte ID.
function claimKey(id: NodeId): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1');
}

export interface DisjointPathOptions {
  /** This path's number, as recorded in the shared claims. */
  readonly index: number;
  readonly target: NodeId;
  readonly seeds: readonly Contact[];
  readonly k: number;
  readonly alpha: number;
  readonly maxRpcs: number;
  readonly maxUnqueried: number;
  readonly localId?: NodeId;
  readonly claims: PathClaims;
}

/**
 * One path of a disjoint lookup: ClosestLookup's iteration (same candidate order, alpha, slow requests,
 * convergence and budget rules) over its own candidates, learning only from the nodes it asked itself.
 * A node another path has claimed is, to this path, as if it had failed: never asked, never returned.
 * Such nodes are skipped when learned and marked `failed` when found unqueried in the list (a claim may
 * come after this path learned the node), but never counted as this path's failures.
 */
export class DisjointPath {
  readonly index: number;
  private readonly k: number;
  private readonly alpha: number;
  private readonly maxRpcs: number;
  private readonly localId: NodeId | undefined;
  private readonly claims: PathClaims;
  private readonly candidates: CandidateList;
  private readonly counters: { -readonly [K in keyof LookupStats]: LookupStats[K] } = {
    requests: 0,
    responses: 0,
    failures: 0,
    slow: 0,
    maxHops: 0,
  };
  private reason: LookupFinishReason | undefined;

  constructor(options: DisjointPathOptions) {
    this.index = options.index;
    this.k = options.k;
    this.alpha = options.alpha;
    this.maxRpcs = options.maxRpcs;
    this.localId = options.localId;
    this.claims = options.claims;
    this.candidates = new CandidateList({ target: options.target, maxUnqueried: options.maxUnqueried });
    for (const seed of options.seeds) this.learn(seed, 1);
    this.checkFinished();
  }

  get stats(): LookupStats {
    return this.counters;
  }

  get finishReason(): LookupFinishReason | undefined {
    return this.reason;
  }

  isDone(): boolean {
    return this.reason !== undefined;
  }

  /** As ClosestLookup.nextRequests(), claiming each node it hands out; then re-checks convergence. */
  nextRequests(): Contact[] {
    const out: Contact[] = [];
    if (this.reason) return out;
    let answeredNearer = 0;
    let active = this.candidates.count('inFlight');
    for (const candidate of this.candidates) {
      if (answeredNearer >= this.k || active >= this.alpha || this.counters.requests >= this.maxRpcs) break;
      if (candidate.state === 'responded') answeredNearer++;
      else if (candidate.state === 'unqueried' && !this.dropIfForeign(candidate)) {
        this.claims.claim(candidate.contact.id, this.index);
        this.candidates.setState(candidate, 'inFlight');
        this.counters.requests++;
        active++;
        out.push(candidate.contact);
      }
    }
    // Skipping another path's nodes may have left nothing nearer to ask.
    this.checkFinished();
    return out;
  }

  onResponse(from: NodeId, contacts: readonly Contact[]): void {
    const candidate = this.inFlight(from);
    if (!candidate) return;
    this.candidates.setState(candidate, 'responded');
    this.counters.responses++;
    if (candidate.hop > this.counters.maxHops) this.counters.maxHops = candidate.hop;
    for (const contact of contacts) this.learn(contact, candidate.hop + 1);
    this.checkFinished();
  }

  onFailure(from: NodeId): void {
    const candidate = this.inFlight(from);
    if (!candidate) return;
    this.candidates.setState(candidate, 'failed');
    this.counters.failures++;
    this.checkFinished();
  }

  onSlow(from: NodeId): void {
    if (this.reason) return;
    const candidate = this.candidates.get(from);
    if (candidate?.state !== 'inFlight') return;
    this.candidates.setState(candidate, 'slow');
    this.counters.slow++;
  }

  /** This path's k nearest nodes that answered, nearest first. */
  closest(): Contact[] {
    const out: Contact[] = [];
    for (const candidate of this.candidates) {
      if (out.length >= this.k) break;
      if (candidate.state === 'responded') out.push(candidate.contact);
    }
    return out;
  }

  /**
   * Re-evaluates convergence; the owning lookup calls it for every path after any event, because another
   * path's claim can finish this one without an event of its own.
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
    this.reason = answered === 0 ? 'exhausted' : 'converged';
  }

  private checkBudget(): void {
    const awaited = this.candidates.count('inFlight') + this.candidates.count('slow');
    if (this.counters.requests >= this.maxRpcs && awaited === 0) this.reason = 'budget';
  }

  private inFlight(id: NodeId): Candidate | undefined {
    if (this.reason || !isNodeId(id)) return undefined;
    const candidate = this.candidates.get(id);
    return candidate?.state === 'inFlight' || candidate?.state === 'slow' ? candidate : undefined;
  }

  /** Marks an unqueried candidate another path has claimed as out of this path's reach. */
  private dropIfForeign(candidate: Candidate): boolean {
    const owner = this.claims.ownerOf(candidate.contact.id);
    if (owner === undefined || owner === this.index) return false;
    this.candidates.setState(candidate, 'failed');
    return true;
  }

  // Replies come from the network: a malformed entry is skipped rather than trusted or thrown on.
  private learn(contact: Contact, hop: number): void {
    if (!contact || !isNodeId(contact.id)) return;
    if (this.localId && idEquals(contact.id, this.localId)) return;
    const owner = this.claims.ownerOf(contact.id);
    if (owner !== undefined && owner !== this.index) return;
    this.candidates.add(contact, hop);
  }
}
