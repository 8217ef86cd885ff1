import { env } from '../../../../libs/platform/src';

/** Defaults of the bootstrap service, each with its reason (the library's own defaults stay in DEFAULTS). */
export const BOOTSTRAP_DEFAULTS = {
  /** HTTP port: bootstrap 8081, crawler 8082, dashboard 8080, so a whole fleet runs on one machine. */
  httpPort: 8081,
  /** The fleet's published UDP port (BitTorrent DHT's customary one); clients put host:6881 in their config. */
  dhtPort: 6881,
  /** Every interface, both families: a bootstrap node serves whoever can reach it. */
  bindAddress: '0.0.0.0',
  /** Label in logs, metrics and the fleet registry; operators set the real one per deployment. */
  region: 'local',
  /** Identity and snapshots live here unless configured otherwise; a Kubernetes volume in production. */
  dataDir: './data',
  /** A heartbeat every 10 s keeps the dashboard's fleet view at most ~10 s stale. */
  registryHeartbeatMs: 10_000,
  /** Three missed heartbeats and the entry expires: a dead node leaves the registry within 30 s. */
  registryTtlMs: 30_000,
  /** Snapshot the table and buffer every 5 minutes: a restart loses at most that much of what was learned. */
  snapshotIntervalMs: 5 * 60_000,
  /** Re-verification of the contact buffer: one round every 2 s keeps a 1M buffer fresh within hours. */
  bufferVerifyIntervalMs: 2_000,
  /** Readiness self-ping at most this often; probes in between read the cached result. */
  selfPingIntervalMs: 5_000,
} as const;

export const BOOTSTRAP_ENV_SCHEMA = {
  DHT_BIND_ADDRESS: env.string({
    description: 'IP address the UDP socket binds (0.0.0.0 binds udp4 on all interfaces and udp6 on ::).',
    default: BOOTSTRAP_DEFAULTS.bindAddress,
    pattern: /^[0-9a-fA-F:.]+$/,
    allowedText: 'an IPv4 or IPv6 address',
  }),
  DHT_PORT: env.port({ description: 'UDP port of the DHT node.', default: BOOTSTRAP_DEFAULTS.dhtPort }),
  DHT_ADVERTISED_HOST: env.string({
    description:
      'Host clients use to reach this node (the DNS name or public IP in front of it); published in the fleet ' +
      'registry. Unset: the bind address, or 127.0.0.1 when binding all interfaces.',
    maxLength: 253,
    pattern: /^[A-Za-z0-9.:-]+$/,
    allowedText: 'a DNS name or an IP address',
  }),
  DHT_ADVERTISED_PORT: env.port({ description: 'Port clients use to reach this node; unset: DHT_PORT.' }),
  DHT_REGION: env.string({
    description: 'Region label (logs, metrics, fleet registry), e.g. eu-west-1.',
    default: BOOTSTRAP_DEFAULTS.region,
    pattern: /^[a-z0-9][a-z0-9-]{0,62}$/,
    allowedText: 'lower-case letters, digits and "-", at most 63 characters',
  }),
  DHT_KEY_FILE: env.string({
    description:
      'Identity key file (a mounted Kubernetes Secret): loaded when it exists, otherwise generated once and ' +
      'written there (mode 0600). Unset: <DHT_DATA_DIR>/identity.key.',
    maxLength: 4_096,
  }),
  DHT_DATA_DIR: env.string({
    description:
      'Directory for the generated identity and the routing-table and buffer snapshots (warm restarts).',
    default: BOOTSTRAP_DEFAULTS.dataDir,
    maxLength: 4_096,
  }),
  DHT_BOOTSTRAP: env.hostPortList({
    description: 'Other bootstrap nodes to join through (the rest of the fleet); empty starts a new network.',
    defaultPort: BOOTSTRAP_DEFAULTS.dhtPort,
  }),
  DHT_PUBLIC_MODE: env.bool({
    description:
      'Internet-facing: never hold, ask or hand out contacts at private, loopback or reserved addresses. ' +
      'Turn on in production; off lets a LAN or loopback demo work.',
    default: false,
  }),
  DHT_TRUSTED_NETWORKS: env.string({
    description:
      "The operator's own networks (comma-separated CIDRs): never rate-limited or banned, exempt from IP-diversity limits.",
    maxLength: 4_096,
    pattern: /^[0-9a-fA-F:./, ]*$/,
    allowedText: 'comma-separated CIDRs such as 10.0.0.0/8,2001:db8::/32',
  }),
  DHT_BUFFER_CAPACITY: env.int({
    description: 'Verified contacts the bootstrap buffer holds at most (compact: about 64 bytes each).',
    default: 1_000_000,
    min: 1_000,
    max: 1_000_000,
  }),
  DHT_ID_PUZZLE_DIFFICULTY: env.int({
    description:
      "The network's S/Kademlia ID puzzle (leading zero bits); every node of a network must agree.",
    default: 0,
    min: 0,
    max: 32,
  }),
  DHT_SNAPSHOT_INTERVAL_MS: env.durationMs({
    description: 'How often the routing table and buffer are written to DHT_DATA_DIR.',
    default: BOOTSTRAP_DEFAULTS.snapshotIntervalMs,
    min: 1_000,
  }),
  DHT_BUFFER_VERIFY_INTERVAL_MS: env.durationMs({
    description: 'Period of the buffer verification round (pings of new and stale contacts).',
    default: BOOTSTRAP_DEFAULTS.bufferVerifyIntervalMs,
    min: 100,
  }),
  REGISTRY_HEARTBEAT_MS: env.durationMs({
    description: 'Period of the heartbeat into the Redis fleet registry.',
    default: BOOTSTRAP_DEFAULTS.registryHeartbeatMs,
    min: 100,
  }),
  REGISTRY_TTL_MS: env.durationMs({
    description:
      'A registry entry expires this long after its last heartbeat (more than REGISTRY_HEARTBEAT_MS).',
    default: BOOTSTRAP_DEFAULTS.registryTtlMs,
    min: 1_000,
  }),
  PUBLIC_HTTP_URL: env.url({
    description: "Where operators reach this node's HTTP endpoints; published in the fleet registry.",
    protocols: ['http:', 'https:'],
  }),
} as const;
