import type {
  IpAdmission,
  IpAdmissionRefusal,
  IpDiversityPolicy,
  IpDiversityStats,
} from '../security/ip-diversity';
import type { Bucket } from './bucket';
import type { MutableEntry } from './routing-entry';

export interface IpAdmissionStats extends IpDiversityStats {
  /** Refusals by the limit that refused them: newcomers, address moves and promotions together. */
  refused: Record<IpAdmissionRefusal, number>;
  /** Of those, known live entries that tried to move to a refused address (they kept their old one). */
  refusedMoves: number;
  /** Of those, cached spares passed over for a free live slot (and dropped from the cache). */
  refusedPromotions: number;
}

/**
 * The routing table's side of the IP-diversity policy: which bucket peers each question is asked
 * against, the count reports (live entries only; the replacement cache is never counted), and the
 * refusal counters the node exports. Without a policy every check admits and nothing is counted,
 * so a table built without one behaves exactly as before the policy existed.
 */
export class IpAdmissionGate {
  private readonly refused: Record<IpAdmissionRefusal, number> = {
    invalid_host: 0,
    ip_limit: 0,
    table_group_limit: 0,
    bucket_group_limit: 0,
  };
  private refusedMoves = 0;
  private refusedPromotions = 0;

  constructor(private readonly policy: IpDiversityPolicy | undefined) {
    // The table starts empty and owns the counts from here on: counts left from another table would
    // refuse contacts this one has never seen.
    policy?.reset();
  }

  /** Whole-table limits only: the cheap check before the table splits anything for host. */
  checkTable(host: string): IpAdmissionRefusal | undefined {
    return this.policy && this.tally(this.policy.canAdmit({ host }));
  }

  /** Every limit, for a free live slot in bucket. */
  checkLive(host: string, bucket: Bucket): IpAdmissionRefusal | undefined {
    return this.policy && this.tally(this.policy.canAdmit({ host, bucketPeers: bucket.live }));
  }

  /**
   * For a replacement-cache slot: the live limits (a spare the bucket's own group count refuses could
   * not be promoted while that count holds), and at most perBucketPerGroup of one group in the cache
   * itself, so one /24 cannot flush every honest spare out of a bounded cache. `spare` is the
   * contact's own cached entry, which it would replace rather than join.
   */
  checkCache(host: string, bucket: Bucket, spare?: MutableEntry): IpAdmissionRefusal | undefined {
    if (!this.policy) return undefined;
    const live = this.policy.canAdmit({ host, bucketPeers: bucket.live });
    if (!live.ok) return this.tally(live);
    const others = spare ? bucket.replacements.filter((e) => e !== spare) : bucket.replacements;
    return this.tally(this.policy.canAdmit({ host, bucketPeers: others }));
  }

  /** A live entry of bucket answering from a new host: its old address is counted out first. */
  checkMove(entry: MutableEntry, host: string, bucket: Bucket): IpAdmissionRefusal | undefined {
    if (!this.policy) return undefined;
    const refusal = this.tally(
      this.policy.canAdmit({ host, bucketPeers: bucket.live, replacing: entry.host }),
    );
    if (refusal) this.refusedMoves++;
    return refusal;
  }

  /** A spare about to take a free slot of bucket: cached while the limits allowed it, they may not now. */
  admitsPromotion(candidate: MutableEntry, bucket: Bucket): boolean {
    if (!this.policy) return true;
    const refusal = this.tally(this.policy.canAdmit({ host: candidate.host, bucketPeers: bucket.live }));
    if (refusal) this.refusedPromotions++;
    return refusal === undefined;
  }

  /** An entry became live (added or promoted). */
  added(entry: MutableEntry): void {
    this.policy?.onAdded(entry);
  }

  /** A live entry left the table (evicted, removed, or replaced at its address). */
  removed(entry: MutableEntry): void {
    this.policy?.onRemoved(entry);
  }

  /** A live entry changed host (after checkMove admitted it). */
  moved(from: string, to: string): void {
    if (from !== to) this.policy?.onMoved({ from, to });
  }

  /** Undefined when the table has no policy. */
  stats(): IpAdmissionStats | undefined {
    if (!this.policy) return undefined;
    return {
      ...this.policy.stats(),
      refused: { ...this.refused },
      refusedMoves: this.refusedMoves,
      refusedPromotions: this.refusedPromotions,
    };
  }

  private tally(admission: IpAdmission): IpAdmissionRefusal | undefined {
    if (admission.ok) return undefined;
    this.refused[admission.reason]++;
    return admission.reason;
  }
}
