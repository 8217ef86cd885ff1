/**
 * Every protocol and tuning default of libs/kademlia, in one place, each with the reason for its value.
 * Options objects elsewhere spread these and override single fields; nothing else hard-codes a number.
 */
export const DEFAULTS = {
  // ---- Identity and routing table -------------------------------------------------------------
  /** Bits in a NodeId: SHA-1 output, fixed by the network spec. */
  idBits: 160,
  /** Contacts per bucket and results per lookup; the Kademlia paper's value and the network spec's. */
  k: 20,
  /** Parallel requests per lookup step; more adds load without shortening lookups much (paper, §2.3). */
  alpha: 3,
  /** Relaxed splitting: a bucket not holding our ID still splits while depth % b != 0 (paper §4.2). */
  splitRelaxation: 5,
  /** Replacement-cache entries per bucket; a full bucket's worth of spares covers a churn burst. */
  replacementCacheSize: 20,
  /** Consecutive failures before eviction; one lost UDP packet must not evict a good node. */
  maxFailures: 2,
  /** An entry seen this recently is not pinged before eviction decisions; it is known alive. */
  recentlySeenMs: 60_000,
  /** Period of pinging the stalest routing-table entry; finds dead entries whether or not traffic flows. */
  revalidateMs: 3_000,
  /** A bucket without a lookup or change for this long is refreshed with a random-target lookup. */
  bucketRefreshMs: 60 * 60_000,
  /** How often the node looks itself up to keep its neighbourhood fresh. */
  selfLookupMs: 10 * 60_000,

  // ---- RPC and timeouts -----------------------------------------------------------------------
  /** First timeout for a peer without RTT samples (RFC 6298 §2.1 uses 1 s). */
  initialTimeoutMs: 1_000,
  /** Timeout floor: loopback RTTs are tiny but GC pauses and busy peers are not. */
  minTimeoutMs: 250,
  /** Timeout ceiling: waiting longer than this on a UDP request only stalls lookups. */
  maxTimeoutMs: 4_000,
  /** Retries of a direct RPC (ping, store); a lookup retries 0 times as other candidates exist. */
  rpcRetries: 2,
  /** Retries inside lookups: another candidate is usually a better use of time than a resend. */
  lookupRetries: 0,
  /** Requests in flight per node; bounds memory and keeps a busy node from flooding the network. */
  maxInflightRequests: 512,
  /** Peers whose RTT estimate is kept; bounded LRU so hostile churn cannot grow memory. */
  rttCacheSize: 10_000,
  /** RTT samples behind the network-wide median (lookups' short timeout); few enough to follow change. */
  rttMedianWindow: 256,

  // ---- Lookups --------------------------------------------------------------------------------
  /** Give up a lookup after this long; libtorrent uses 15 s, discv5 clients about 10 s. */
  lookupDeadlineMs: 10_000,
  /** Most requests one lookup may send; a healthy 10k-node lookup needs about 30-40. */
  lookupMaxRpcs: 120,
  /** A request unanswered after this share of its timeout stops counting against alpha. */
  slowRequestFraction: 0.5,
  /** Unqueried candidates a lookup keeps (at least 4k); hostile peers cannot grow it (libtorrent keeps 100). */
  lookupMaxUnqueried: 100,

  // ---- Values ---------------------------------------------------------------------------------
  /** Largest value accepted, as in BEP 44: small enough to fit one packet with its record. */
  maxValueBytes: 1_000,
  /** Default time-to-live of a stored record. */
  recordTtlMs: 24 * 60 * 60_000,
  /** Longest TTL a peer may ask for; caps how long junk can occupy our store. */
  maxRecordTtlMs: 48 * 60 * 60_000,
  /** Holders push records they still own to the current k closest this often (paper §2.5). */
  replicateMs: 60 * 60_000,
  /** Publishers re-store their own records this often, before the 24 h TTL runs out. */
  republishMs: 22 * 60 * 60_000,
  /** Records held at most; with maxStoreBytes bounds the memory one node lends the network. */
  maxStoreRecords: 65_536,
  /** Bytes of values held at most (64 MiB). */
  maxStoreBytes: 64 * 1024 * 1024,
  /** Records accepted from one IP address; one host cannot fill the store. */
  maxRecordsPerIp: 256,
  /** Records replicated or republished per maintenance round; spreads a large store's work over time. */
  replicationBatch: 256,
  /** Write-token secret rotation; a token stays valid for one to two periods. */
  tokenRotationMs: 5 * 60_000,

  // ---- Wire -----------------------------------------------------------------------------------
  /** Largest UDP payload: the IPv6 minimum MTU (1280) minus IPv6 and UDP headers. */
  maxPacketBytes: 1232,

  // ---- Simulator ------------------------------------------------------------------------------
  /** One-way delay of the in-memory network when no latency model is given; a same-region hop. */
  simLatencyMs: 20,
  /** Seed of the in-memory network's loss draws when none is given; simulations repeat exactly. */
  simRandomSeed: 0x5eed,

  // ---- Node lifecycle -------------------------------------------------------------------------
  /** UDP port of a node; the fleet's published port (BitTorrent DHT's customary port). */
  bindPort: 6881,
  /** First retry delay when no bootstrap node answers; doubled each attempt. */
  bootstrapRetryMinMs: 1_000,
  /** Ceiling of the bootstrap retry delay; clients retry forever at this pace. */
  bootstrapRetryMaxMs: 60_000,
  /** Routing-table snapshot period when a snapshot path is configured. */
  snapshotMs: 5 * 60_000,
  /** Contacts a snapshot file may hold; far above any routing table, and bounds what a hostile file costs. */
  snapshotMaxContacts: 100_000,
} as const;

export type Defaults = typeof DEFAULTS;
