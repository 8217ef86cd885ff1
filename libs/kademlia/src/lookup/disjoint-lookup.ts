import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { compareDistance, idEquals, isNodeId, type NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import {
  ClosestLookup,
  type LookupFinishReason,
  type LookupOptions,
  type LookupStats,
} from './closest-lookup';
import { PathClaims } from './disjoint-path';
import type { LookupStateMachine } from './lookup-state-machine';

export interface DisjointLookupOptions extends Omit<LookupOptions, 'claims'> {
  /** d, the number of disjoint paths (1 behaves like ClosestLookup). */
  readonly paths?: number;
  // alpha and maxRpcs (from LookupOptions) apply to each path: the whole lookup sends at most d × maxRpcs.
}

/**
 * An S/Kademlia disjoint-path lookup as a sans-IO state machine, driven exactly like ClosestLookup.
 *
 * - Seeds (deduplicated, without `localId`) are sorted by distance and dealt round-robin over d paths,
 *   so each path starts from a share of the near ones.
 * - Each path is a ClosestLookup over its own candidates, with its own alpha and RPC budget,
 *   learning only from the nodes it asked. The paths share one claims registry: a node is asked by the
 *   first path that wants it and by no other, so every queried node belongs to exactly one path. A few
 *   malicious nodes can then spoil only the paths that meet them; the others keep honest views.
 * - Done when every path is done. finishReason: `exhausted` when nobody answered, `budget` when some path
 *   stopped on its budget, otherwise `converged`.
 * - closest() is the k nearest nodes that answered on any path; pathResults() gives each path's own k.
 *   The merge is by distance only: Sybils closer than every real node win it if any path met them, so
 *   what the paths buy is reach (some path gets to the honest nodes; a verifiable value found there is
 *   safe), not a trustworthy merged list.
 * - Cost: each path needs k answers of its own, so about d times one path's requests (4.0x for d = 4
 *   without attackers in disjoint-lookup.adversary-sim.spec.ts).
 *   Events for unclaimed IDs, for requests not in flight and every event after finishing are ignored.
 */
export class DisjointLookup implements LookupStateMachine {
  readonly target: NodeId;
  private readonly k: number;
  private readonly paths: ClosestLookup[] = [];
  private readonly claims = new PathClaims();
  private readonly now: (() => number) | undefined;
  private readonly startedAt: number | undefined;
  /** Which path asks first in the next nextRequests() call; rotates so no path always wins contested nodes. */
  private firstPath = 0;
  private reason: LookupFinishReason | undefined;
  private durationMs: number | undefined;

  constructor(options: DisjointLookupOptions) {
    if (!isNodeId(options.target)) throw invalid('target must be a 20-byte NodeId');
    this.target = options.target;
    this.k = options.k ?? DEFAULTS.k;
    const d = options.paths ?? DEFAULTS.disjointPaths;
    const alpha = options.alpha ?? DEFAULTS.alpha;
    const maxRpcs = options.maxRpcs ?? DEFAULTS.lookupMaxRpcs;
    const maxUnqueried = options.maxUnqueried ?? Math.max(DEFAULTS.lookupMaxUnqueried, 4 * this.k);
    requirePositiveInteger('k', this.k);
    requirePositiveInteger('paths', d);
    requirePositiveInteger('alpha', alpha);
    requirePositiveInteger('maxUnqueried', maxUnqueried);
    if (!(maxRpcs === Infinity || (Number.isInteger(maxRpcs) && maxRpcs >= 0)))
      throw invalid(`maxRpcs must be a non-negative integer or Infinity, got ${maxRpcs}`);
    this.now = options.now;
    this.startedAt = options.now?.();

    const shares = dealSeeds({
      target: this.target,
      seeds: options.seeds,
      paths: d,
      localId: options.localId,
    });
    for (let index = 0; index < d; index++) {
      this.paths.push(
        new ClosestLookup({
          target: this.target,
          seeds: shares[index],
          k: this.k,
          alpha,
          maxRpcs,
          maxUnqueried,
          localId: options.localId,
          claims: this.claims.forPath(index),
        }),
      );
    }
    this.checkFinished();
  }

  get pathCount(): number {
    return this.paths.length;
  }

  /** Sums over the paths (maxHops is the largest); durationMs once done, when `now` was given. */
  get stats(): LookupStats {
    const total = { requests: 0, responses: 0, failures: 0, slow: 0, maxHops: 0 };
    for (const path of this.paths) {
      const s = path.stats;
      total.requests += s.requests;
      total.responses += s.responses;
      total.failures += s.failures;
      total.slow += s.slow;
      total.maxHops = Math.max(total.maxHops, s.maxHops);
    }
    return this.durationMs === undefined ? total : { ...total, durationMs: this.durationMs };
  }

  /** Each path's own stats, in path order. */
  get pathStats(): LookupStats[] {
    return this.paths.map((path) => path.stats);
  }

  get finishReason(): LookupFinishReason | undefined {
    return this.reason;
  }

  isDone(): boolean {
    return this.reason !== undefined;
  }

  /** Contacts to ask now, up to alpha per path; each is claimed by the path that asks it. */
  nextRequests(): Contact[] {
    const out: Contact[] = [];
    if (this.reason) return out;
    const d = this.paths.length;
    for (let i = 0; i < d; i++) out.push(...this.paths[(this.firstPath + i) % d].nextRequests());
    this.firstPath = (this.firstPath + 1) % d;
    this.checkFinished();
    return out;
  }

  // An answer or a failure changes only the path that asked (it re-checks itself); no claim changes.
  onResponse(from: NodeId, contacts: readonly Contact[]): void {
    this.pathAsking(from)?.onResponse(from, contacts);
    this.finishIfAllDone();
  }

  onFailure(from: NodeId): void {
    this.pathAsking(from)?.onFailure(from);
    this.finishIfAllDone();
  }

  onSlow(from: NodeId): void {
    this.pathAsking(from)?.onSlow(from);
  }

  /** The k nearest nodes that answered on any path, nearest first. */
  closest(): Contact[] {
    const all = this.paths.flatMap((path) => path.closest());
    all.sort((a, b) => compareDistance(this.target, a.id, b.id));
    return all.slice(0, this.k);
  }

  /** Each path's k nearest answered nodes, in path order; no node appears in two paths. */
  pathResults(): Contact[][] {
    return this.paths.map((path) => path.closest());
  }

  /** The path that asked `id`, if any path did. */
  pathOf(id: NodeId): number | undefined {
    return isNodeId(id) ? this.claims.ownerOf(id) : undefined;
  }

  private pathAsking(id: NodeId): ClosestLookup | undefined {
    if (this.reason) return undefined;
    const owner = this.pathOf(id);
    return owner === undefined ? undefined : this.paths[owner];
  }

  // New claims can finish a path without an event of its own (what it still wanted is another path's now),
  // so after handing out requests every path is re-checked.
  private checkFinished(): void {
    if (this.reason) return;
    for (const path of this.paths) path.checkFinished();
    this.finishIfAllDone();
  }

  private finishIfAllDone(): void {
    if (this.reason || !this.paths.every((path) => path.isDone())) return;
    const reasons = this.paths.map((path) => path.finishReason);
    if (this.paths.every((path) => path.stats.responses === 0)) this.reason = 'exhausted';
    else this.reason = reasons.includes('budget') ? 'budget' : 'converged';
    if (this.now && this.startedAt !== undefined) this.durationMs = this.now() - this.startedAt;
  }
}

interface SeedDeal {
  readonly target: NodeId;
  readonly seeds: readonly Contact[];
  readonly paths: number;
  readonly localId?: NodeId;
}

/** Valid, distinct seeds other than ourselves, nearest first, dealt to the paths like cards. */
function dealSeeds({ target, seeds, paths, localId }: SeedDeal): Contact[][] {
  const seen = new Set<string>();
  const usable: Contact[] = [];
  for (const seed of seeds) {
    if (!seed || !isNodeId(seed.id) || (localId && idEquals(seed.id, localId))) continue;
    const key = Buffer.from(seed.id).toString('latin1');
    if (seen.has(key)) continue;
    seen.add(key);
    usable.push(seed);
  }
  usable.sort((a, b) => compareDistance(target, a.id, b.id));
  const shares: Contact[][] = Array.from({ length: paths }, () => []);
  usable.forEach((seed, i) => shares[i % paths].push(seed));
  return shares;
}

function invalid(message: string): KademliaError {
  return new KademliaError(message, 'CONFIG_INVALID');
}

function requirePositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw invalid(`${name} must be a positive integer, got ${value}`);
}
