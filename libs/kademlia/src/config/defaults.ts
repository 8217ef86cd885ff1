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

  // ---- Sybil and eclipse resistance: who may enter the routing table -------------------------
  /** IPv4 address group: a /24 is the smallest block routed on the Internet, so it is what one renter gets. */
  ipGroupPrefixBitsV4: 24,
  /** IPv6 address group: a /48 is the usual end-site assignment (RFC 6177), so one site is one group. */
  ipGroupPrefixBitsV6: 48,
  /** Entries per address group in one bucket (discv5 rationale): one /24 fills at most 2 of a bucket's k slots. */
  ipDiversityPerBucketPerGroup: 2,
  /** Entries per address group in the whole table (discv5 rationale): one /24 cannot surround us across buckets. */
  ipDiversityPerTablePerGroup: 10,
  /** Entries per exact IP in the whole table (libtorrent): one machine is one slot, whatever its ports or keys. */
  ipDiversityPerTablePerIp: 1,
  /**
   * Leading zero bits of SHA-256(NodeId) an ID must show (S/Kademlia static puzzle); 0 = off. Every node of
   * a network must agree on it and existing identities would fail a raised value, so it is off unless a
   * network sets it at creation (12 costs an honest node ~0.1-0.2 s of key generation once).
   */
  idPuzzleDifficulty: 0,
  /** Identities tried between yields to the event loop while grinding a puzzle: 64 × ~25-45 µs is < 3 ms. */
  idPuzzleYieldEvery: 64,

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
  /** S/Kademlia paths in secure mode: with 20% malicious nodes 4 reach the closest honest node in 97% of lookups, 1 in 72%. */
  disjointPaths: 4,

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

  // ---- Encrypted sessions ---------------------------------------------------------------------
  /** Peers (NodeId, ip:port) with session state, LRU; at ~1 KB each a bootstrap node's table stays < 64 MiB. */
  maxSessions: 65_536,
  /** The initiator of a session re-handshakes after this long: old traffic stays safe if keys leak later. */
  rekeyAfterMs: 10 * 60_000,
  /** ...or after this many messages sent on it, far below the 64-bit nonce space. */
  rekeyAfterMessages: 2 ** 32,
  /** A session is never used past this age; two minutes past rekeyAfterMs leave time for the new handshake. */
  rejectAfterMs: 12 * 60_000,
  /** Counters accepted below the highest seen; 2048 covers any reordering UDP shows (WireGuard keeps ~8000). */
  replayWindowBits: 2_048,
  /** New-key handshakes per second above which INITs need a cookie: each costs ~150 µs, 2 000/s is ~30% of a core. */
  handshakeCookieThreshold: 2_000,
  /** Cookie secret rotation (WireGuard's 2 min); a cookie stays valid for one to two periods. */
  cookieRotationMs: 2 * 60_000,
  /** A handshake unanswered this long is abandoned; the next send starts over with a fresh ephemeral key. */
  handshakeTimeoutMs: 10_000,
  /** INIT sends per handshake (each send() while pending is one); beyond that the handshake starts over. */
  handshakeMaxAttempts: 16,
  /** Payloads held per address while its key is being discovered (HELLO); the oldest is dropped beyond. */
  keyDiscoveryQueue: 8,
  /** Addresses with a key discovery in flight; bounded LRU. */
  maxKeyDiscoveries: 1_024,
  /** Replies held for an unvalidated address until it proves itself; one NODES reply has at most 8 parts. */
  maxDeferredReplies: 8,

  // ---- Abuse resistance: inbound rate limits, bans, load shedding, reputation ------------------
  /** Packets per second from one source (an IPv6 source is its /64); a busy honest peer sends a few. */
  rateIpPerSecond: 20,
  /** Packets one source may send at once after a quiet spell: a lookup burst plus a multi-packet reply. */
  rateIpBurst: 100,
  /** Packets per second from one /24 (IPv4) or /48 (IPv6): ten hosts' worth, shared by every IP in it. */
  rateGroupPerSecond: 200,
  /** Burst of one /24 or /48: ten hosts' bursts. */
  rateGroupBurst: 1_000,
  /** New handshakes per second from one source: one session per peer key; each costs us a key exchange. */
  rateHandshakesPerSecond: 2,
  /** Handshakes one source may start at once: a restarting host or a small NAT reconnecting its peers. */
  rateHandshakeBurst: 20,
  /** STOREs per second from one source (10 per minute): publishers re-store hourly, not continuously. */
  rateStoresPerSecond: 10 / 60,
  /** STOREs one source may send at once: one publish fans out to k nodes, of which we are one. */
  rateStoreBurst: 10,
  /** Sources whose buckets are tracked (bounded LRU); a forgotten source just restarts with a full burst. */
  rateMaxTrackedIps: 100_000,
  /** /24 and /48 groups whose buckets are tracked (bounded LRU). */
  rateMaxTrackedGroups: 50_000,
  /** Rate-limit drops are counted per source over windows this long (libtorrent dos_blocker's 10 s). */
  banWindowMs: 10_000,
  /** More drops than this in one window bans the source: it averaged 1.5-2× its limit for 10 s. */
  banAfterDrops: 100,
  /** How long a rate-limit ban lasts (libtorrent blocks for 5 minutes too). */
  banMs: 5 * 60_000,
  /** Active bans kept (bounded LRU); a banned source that keeps sending stays the most recently used. */
  maxBans: 10_000,
  /** Mean event-loop lag (ms) for shedding levels 1-4; at 250 ms (minTimeoutMs) answers come too late. */
  shedEventLoopDelayMs: [30, 70, 150, 250],
  /** Queue depth, as a share of its capacity, at which shedding reaches levels 1-4. */
  shedQueueFractions: [0.5, 0.7, 0.85, 0.95],
  /** A level is left only when load is below this share of the threshold that raised it (hysteresis). */
  shedFallRatio: 0.7,
  /** Load must stay below the lower band this long before the level drops one step; stops flapping. */
  shedCoolDownMs: 5_000,
  /** Timer resolution of the event-loop delay probe; 10 ms is Node's default and costs nothing measurable. */
  eventLoopResolutionMs: 10,
  /** How often the node samples load for the shedder; a mean over ~100 ticks ignores one lone GC pause. */
  loadSampleMs: 1_000,
  /** Hosts remembered as "we asked them lately" (bounded LRU): their answers are not charged to rate limits. */
  guardContactedHosts: 20_000,
  /** How long after our request a host's packets count as answers: the longest RPC timeout plus slack. */
  guardContactedWindowMs: 5_000,
  /** Loopback cannot be reached from another machine, so many nodes on one loopback IP are tests, not Sybils. */
  ipDiversityExempt: ['127.0.0.0/8', '::1/128'] as readonly string[],
  /** Half-life of a peer's reputation score: old good or bad behaviour fades within hours. */
  reputationHalfLifeMs: 30 * 60_000,
  /** A score at or below this bans the peer: two bad signatures, or ten forged tokens, in a short time. */
  reputationBanThreshold: -50,
  /** How long a reputation ban lasts. */
  reputationBanMs: 10 * 60_000,
  /** Highest score: goodwill is capped so a peer cannot bank credit and spend it on misbehaviour. */
  reputationMaxScore: 50,
  /** Lowest score: a flood of bad events cannot push a peer so low it stays banned for days. */
  reputationMinScore: -200,
  /** Peers whose score is tracked (bounded LRU); an evicted peer restarts at neutral 0. */
  reputationMaxPeers: 100_000,
  /** Score change per event; proof of malice weighs far more than a lost packet. */
  reputationWeights: {
    /** Answered with contacts that verified (closer, reachable). */
    useful_reply: 1,
    /** Returned a value that validated. */
    valid_value: 2,
    /** Did not answer; weak evidence, UDP loses packets. */
    timeout: -1,
    /** STORE with a token we never issued or that expired; honest peers rarely hit rotation. */
    invalid_token: -5,
    /** A signature that does not verify: forged or tampered data, never an accident over AEAD. */
    bad_signature: -25,
    /** Contacts that do not answer, are bogons, or are not where the reply claims. */
    junk_contacts: -5,
    /** A record whose key or TTL is out of range, or a STORE far from our ID. */
    out_of_range_record: -10,
  },

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

  // ---- Bootstrap role: the buffer of verified contacts (libs/kademlia/src/bootstrap) ------------
  bootstrapBuffer: {
    /** Entries held; 100k x ~64 B = 6.4 MB preallocated. A Mainline-scale network wants maxCapacity (64 MB). */
    capacity: 100_000,
    /** The ceiling: a million verified contacts, enough to sample a network of several million. */
    maxCapacity: 1_000_000,
    /** Failed pings before an entry is dropped; one lost UDP packet must not cost a good node its place. */
    maxFailures: 2,
    /** A verified entry is pinged again this long after its last success (bootstrap-dht re-pings at ~15 min). */
    reverifyAfterMs: 15 * 60_000,
    /** A pending contact whose first ping failed is retried this much later, not in the same round. */
    pendingRetryMs: 30_000,
    /** Entries per IPv4 address or IPv6 /64: a host runs a few nodes at most; one host cannot fill the buffer. */
    maxPerIp: 4,
    /** Entries per /24 or /48: ten hosts' worth of slack for campus and CGNAT blocks, not a whole buffer. */
    maxPerGroup: 32,
    /** Staging slots (pending + awaiting merge) per entry of capacity; 1/128 keeps the total under 64 B/entry. */
    stagingFraction: 1 / 128,
    /** Staging slots at least / at most: a small buffer still verifies in batches; a big one merges often enough. */
    stagingMin: 256,
    stagingMax: 16_384,
    /** Address changes awaiting a ping at the new address (bounded LRU); an unverified packet moves nothing. */
    maxMoveCandidates: 1_024,
    /** A task nextToVerify() handed out is handed out again if unreported this long (a lost or crashed ping). */
    leaseMs: 60_000,
    /** Pings in flight per verifyRound(); bounds sockets' worth of state and RPC-engine slots (512 in total). */
    verifyConcurrency: 64,
    /** Pings per second: 1M entries re-pinged every 15 min need ~1,100/s; 500/s covers a 450k-entry buffer. */
    verifyRatePerSecond: 500,
    /** Deadline of one verification ping, retries included; a node that needs longer is no good handout. */
    verifyTimeoutMs: 3_000,
    /** Period of the verification round when the node's own timer drives it (rate and concurrency bound each). */
    verifyRoundMs: 1_000,
    /** A snapshot entry older than this is restored as suspect (not handed out until it answers a ping). */
    restoreFreshMs: 60 * 60_000,
  },
} as const;

export type Defaults = typeof DEFAULTS;
