/** Every default of the operator CLI, each with its reason. */
export const CLI_DEFAULTS = {
  /** Probes per `ping`: enough to see loss and a steady RTT after the first (handshake) round trip. */
  pingCount: 3,
  /** Pause between probes: a 3-probe check ends in under a second, yet is no burst for the peer's rate limiter. */
  pingIntervalMs: 200,
  /**
   * Bound of each network operation (one probe, the join, one lookup, one HTTP request). A healthy node answers
   * a first contact (key discovery + handshake) in well under a second even across regions; 5 s rides out a
   * lost packet or two (the library resends after its adaptive timeout) without leaving a script hanging.
   */
  timeoutMs: 5_000,
  /** Upper bound for --timeout: a CLI that waits longer than this is stuck, not careful. */
  maxTimeoutMs: 600_000,
  /** Upper bound for --count: a continuous monitor belongs in Prometheus, not in a loop of pings. */
  maxPingCount: 1_000,
  /** Upper bound for --interval. */
  maxPingIntervalMs: 60_000,
  /**
   * /metrics lines shown by `info --http` when --metrics is not given: the DHT's own series and the process
   * health an operator checks first.
   */
  metricPrefixes: [
    'kad_',
    'kadfleet_',
    'bootstrap_',
    'process_resident_memory_bytes',
    'process_cpu_seconds_total',
    'nodejs_eventloop_lag_p99_seconds',
  ] as readonly string[],
  /** Metric lines printed at most; a full /metrics page is for Prometheus, the CLI shows a summary. */
  maxMetricLines: 60,
  /** Bytes read from one HTTP response at most, so a wrong URL cannot make the CLI buffer gigabytes. */
  maxHttpBodyBytes: 4 * 1024 * 1024,
} as const;
