/**
 * Every default of libs/platform, in one place, each with the reason for its value. Environment variables
 * (config/common-schema.ts) and options objects override single fields; nothing else hard-codes a number.
 */
export const PLATFORM_DEFAULTS = {
  // ---- HTTP -----------------------------------------------------------------------------------
  /** All interfaces: kubelet probes and Prometheus reach the pod IP, not loopback. */
  httpHost: '0.0.0.0',
  /** A common unprivileged port; each service's schema may override it so they can share a laptop. */
  httpPort: 8080,
  /** Request-duration buckets in seconds: Prometheus' defaults, which span a cached read to a slow crawl query. */
  httpDurationBuckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  /** Probe and scrape paths are hit every few seconds; logging each would bury real traffic. */
  quietLogPaths: ['/metrics', '/health/live', '/health/ready'],

  // ---- Logging --------------------------------------------------------------------------------
  /** `info` shows lifecycle and warnings without per-packet noise. */
  logLevel: 'info',

  // ---- Shutdown -------------------------------------------------------------------------------
  /**
   * Longest graceful shutdown before the watchdog forces exit; below Kubernetes' default 30 s grace period so
   * our own watchdog, not SIGKILL, ends a hung hook and logs why.
   */
  shutdownTimeoutMs: 10_000,

  // ---- Redis ----------------------------------------------------------------------------------
  /** One Redis command may take this long before it fails; Redis answers in < 1 ms when healthy. */
  redisCommandTimeoutMs: 2_000,
  /** TCP connect timeout; a black-holed Redis address must not stall a reconnect loop for minutes. */
  redisConnectTimeoutMs: 5_000,
  /** Retries of one command across reconnects; 1 keeps callers from waiting while Redis is down. */
  redisMaxRetriesPerRequest: 1,
  /** First reconnect delay; doubles per attempt up to `redisRetryMaxMs`. */
  redisRetryBaseMs: 100,
  /** Reconnect delay cap; reconnecting never stops, and a restarted Redis is found within this long. */
  redisRetryMaxMs: 2_000,
  /** How long start-up waits for the first connection; a down Redis must not stop the service starting. */
  redisInitialConnectWaitMs: 3_000,
  /** At most one Redis error log line per this period (the rest are counted); a dead Redis logs every retry. */
  redisErrorLogIntervalMs: 30_000,
  /** Time given to QUIT on shutdown before the socket is simply closed. */
  redisQuitTimeoutMs: 1_000,

  // ---- Health ---------------------------------------------------------------------------------
  /** A readiness check slower than this counts as down; kubelet's default probe timeout is 1 s. */
  readinessCheckTimeoutMs: 800,
  /** Most named readiness checks; bounded like every other collection. */
  maxReadinessChecks: 32,
  /**
   * Event-loop delay (max since the previous probe) above which liveness fails. 5 s is far beyond GC pauses,
   * so only a truly stuck loop gets the pod restarted.
   */
  livenessMaxEventLoopDelayMs: 5_000,
} as const;
