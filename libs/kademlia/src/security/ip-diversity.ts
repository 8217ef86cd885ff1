import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { CidrMatcher, tryIpToBytes } from './cidr';
import { checkIpGroupWidths, ipKeysOfBytes, type IpGroupWidths, type IpKeys } from './ip-groups';

/**
 * Who may enter the routing table, by address: at most perBucketPerGroup entries of one /24 (IPv4) or
 * /48 (IPv6) in one bucket, perTablePerGroup of one group in the whole table, perTablePerIp of one exact
 * address. An attacker then needs addresses in many groups to crowd a bucket or surround an ID, which costs
 * far more than many ports or keys on one machine (discv5 rationale, libtorrent restrict_routing_ips).
 *
 * The policy keeps only whole-table counts. Per-bucket counts are taken from the bucket's own entries,
 * which the table passes in: buckets split and entries move between them, and a count that never exists
 * cannot drift. Splitting needs no call at all: a half holds a subset of its parent, so it cannot hold more
 * of a group than the parent did. Allow-listed hosts (an operator's own fleet) are neither limited nor
 * counted. Sans-IO: the table asks canAdmit() before it inserts and reports what it did with onAdded(),
 * onRemoved() and onMoved(); memory is one counter per address and per group present in the table.
 */

export type IpAdmissionRefusal = 'invalid_host' | 'ip_limit' | 'table_group_limit' | 'bucket_group_limit';

export type IpAdmission = { readonly ok: true } | { readonly ok: false; readonly reason: IpAdmissionRefusal };

export interface IpDiversityOptions {
  /** Entries of one group in one bucket (default DEFAULTS.ipDiversityPerBucketPerGroup); Infinity = no limit. */
  perBucketPerGroup?: number;
  /** Entries of one group in the table (default DEFAULTS.ipDiversityPerTablePerGroup); Infinity = no limit. */
  perTablePerGroup?: number;
  /** Entries of one exact address in the table (default DEFAULTS.ipDiversityPerTablePerIp); Infinity = no limit. */
  perTablePerIp?: number;
  /** CIDRs exempt from every limit, IPv4 or IPv6, e.g. ['10.1.0.0/16', '2001:db8::/32']. Fixed at construction. */
  allowList?: Iterable<string>;
  /** Group widths (defaults /24 and /48, from DEFAULTS). */
  groupWidths?: Partial<IpGroupWidths>;
}

/** Anything with a host: a Contact or RoutingEntry can be passed as it is. */
export interface HasHost {
  readonly host: string;
}

export interface AdmissionQuery {
  /** The newcomer's address. */
  host: string;
  /**
   * The live entries of the bucket the newcomer would join, as they are now (a moving entry still at its
   * `replacing` address). Omitted, only the whole-table limits are checked: a cheap pre-check before the
   * table splits anything.
   */
  bucketPeers?: Iterable<HasHost>;
  /**
   * An address the same entry is leaving as it takes `host` (a known peer that changed address): it is
   * counted out of both the table and the bucket, so a move within one group is not refused as a second
   * entry.
   */
  replacing?: string;
}

export interface IpDiversityStats {
  /** Distinct exact addresses counted (allow-listed ones are not). */
  trackedIps: number;
  /** Distinct groups counted. */
  trackedGroups: number;
  /** CIDR blocks on the allow-list. */
  allowListBlocks: number;
}

const ADMITTED: IpAdmission = Object.freeze({ ok: true });
const REFUSED: Record<IpAdmissionRefusal, IpAdmission> = {
  invalid_host: Object.freeze({ ok: false, reason: 'invalid_host' }),
  ip_limit: Object.freeze({ ok: false, reason: 'ip_limit' }),
  table_group_limit: Object.freeze({ ok: false, reason: 'table_group_limit' }),
  bucket_group_limit: Object.freeze({ ok: false, reason: 'bucket_group_limit' }),
};

/** What a host counts as: its keys, or 'exempt' (allow-listed), or undefined (not an IP literal). */
type Classified = IpKeys | 'exempt' | undefined;

export class IpDiversityPolicy {
  readonly perBucketPerGroup: number;
  readonly perTablePerGroup: number;
  readonly perTablePerIp: number;
  private readonly widths: IpGroupWidths;
  private readonly allowList: CidrMatcher<true>;
  private readonly ipCounts = new Map<string, number>();
  private readonly groupCounts = new Map<string, number>();

  constructor(options: IpDiversityOptions = {}) {
    this.perBucketPerGroup = limit(
      'perBucketPerGroup',
      options.perBucketPerGroup ?? DEFAULTS.ipDiversityPerBucketPerGroup,
    );
    this.perTablePerGroup = limit(
      'perTablePerGroup',
      options.perTablePerGroup ?? DEFAULTS.ipDiversityPerTablePerGroup,
    );
    this.perTablePerIp = limit('perTablePerIp', options.perTablePerIp ?? DEFAULTS.ipDiversityPerTablePerIp);
    this.widths = checkIpGroupWidths({
      v4PrefixBits: options.groupWidths?.v4PrefixBits ?? DEFAULTS.ipGroupPrefixBitsV4,
      v6PrefixBits: options.groupWidths?.v6PrefixBits ?? DEFAULTS.ipGroupPrefixBitsV6,
    });
    this.allowList = CidrMatcher.of(options.allowList ?? []);
  }

  /**
   * May an entry at `host` join? Checks are ordered cheapest and most specific first: exact address,
   * table group, then the bucket's group. Never throws: a host that is not an IP literal is refused.
   */
  canAdmit(query: AdmissionQuery): IpAdmission {
    const keys = this.classify(query.host);
    if (keys === 'exempt') return ADMITTED;
    if (keys === undefined) return REFUSED.invalid_host;
    const leaving = query.replacing === undefined ? undefined : this.classify(query.replacing);
    const leavingKeys = typeof leaving === 'object' ? leaving : undefined;
    const sameIp = leavingKeys?.ip === keys.ip ? 1 : 0;
    const sameGroup = leavingKeys?.group === keys.group ? 1 : 0;

    if ((this.ipCounts.get(keys.ip) ?? 0) - sameIp >= this.perTablePerIp) return REFUSED.ip_limit;
    if ((this.groupCounts.get(keys.group) ?? 0) - sameGroup >= this.perTablePerGroup) {
      return REFUSED.table_group_limit;
    }
    if (query.bucketPeers !== undefined && this.perBucketPerGroup !== Infinity) {
      let inBucket = -sameGroup;
      for (const peer of query.bucketPeers) {
        const peerKeys = this.classify(peer.host);
        if (typeof peerKeys === 'object' && peerKeys.group === keys.group) inBucket++;
      }
      if (inBucket >= this.perBucketPerGroup) return REFUSED.bucket_group_limit;
    }
    return ADMITTED;
  }

  /** The table added an entry at host (to its live set). Allow-listed and non-IP hosts are not counted. */
  onAdded(peer: HasHost): void {
    const keys = this.classify(peer.host);
    if (typeof keys !== 'object') return;
    increment(this.ipCounts, keys.ip);
    increment(this.groupCounts, keys.group);
  }

  /** The table removed a live entry at host. A host that was never counted changes nothing. */
  onRemoved(peer: HasHost): void {
    const keys = this.classify(peer.host);
    if (typeof keys !== 'object') return;
    decrement(this.ipCounts, keys.ip);
    decrement(this.groupCounts, keys.group);
  }

  /** A live entry changed address (check it first with canAdmit({ host: to, replacing: from, ... })). */
  onMoved(move: { from: string; to: string }): void {
    this.onRemoved({ host: move.from });
    this.onAdded({ host: move.to });
  }

  /** Forgets every count and counts `peers` afresh (after loading a snapshot, or to repair a table bug). */
  reset(peers: Iterable<HasHost> = []): void {
    this.ipCounts.clear();
    this.groupCounts.clear();
    for (const peer of peers) this.onAdded(peer);
  }

  /** True when host is on the allow-list, hence exempt from (and invisible to) every limit. */
  isExempt(host: string): boolean {
    return this.classify(host) === 'exempt';
  }

  /** Counted entries at host's exact address (0 for allow-listed or non-IP hosts). */
  ipCount(host: string): number {
    const keys = this.classify(host);
    return typeof keys === 'object' ? (this.ipCounts.get(keys.ip) ?? 0) : 0;
  }

  /** Counted entries in host's group (0 for allow-listed or non-IP hosts). */
  groupCount(host: string): number {
    const keys = this.classify(host);
    return typeof keys === 'object' ? (this.groupCounts.get(keys.group) ?? 0) : 0;
  }

  /** The exact and group keys host is counted under; undefined for allow-listed or non-IP hosts. */
  keysOf(host: string): IpKeys | undefined {
    const keys = this.classify(host);
    return typeof keys === 'object' ? keys : undefined;
  }

  stats(): IpDiversityStats {
    return {
      trackedIps: this.ipCounts.size,
      trackedGroups: this.groupCounts.size,
      allowListBlocks: this.allowList.size,
    };
  }

  private classify(host: string): Classified {
    const bytes = tryIpToBytes(host);
    if (bytes === undefined) return undefined;
    if (this.allowList.size > 0 && this.allowList.matchBytes(bytes) !== undefined) return 'exempt';
    return ipKeysOfBytes(bytes, this.widths);
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

// Deleting at zero keeps memory to the keys present in the table, however many hosts came and went.
function decrement(counts: Map<string, number>, key: string): void {
  const count = counts.get(key);
  if (count === undefined) return;
  if (count <= 1) counts.delete(key);
  else counts.set(key, count - 1);
}

function limit(name: string, value: number): number {
  if (value === Infinity || (Number.isInteger(value) && value >= 1)) return value;
  throw new KademliaError(`${name} must be an integer >= 1 or Infinity`, 'CONFIG_INVALID', { [name]: value });
}
