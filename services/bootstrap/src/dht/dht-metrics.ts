import type { Counter, Histogram } from 'prom-client';
import type { KademliaDHT, Labels, MetricsSink } from '../../../../libs/kademlia/src';
import type { MetricsService } from '../../../../libs/platform/src';
import { StatsCounterSync } from './stats-counters';

type DhtStats = ReturnType<KademliaDHT['stats']>;
interface RpcStatsJson {
  requestsSent: Record<string, number>;
  requestsReceived: Record<string, number>;
  responsesReceived: Record<string, number>;
  responsesSent: Record<string, number>;
  timeouts: number;
  aborted: number;
  overloaded: number;
  remoteErrors: number;
}

/** Seconds buckets for lookups (tens of ms on a LAN, seconds across continents, 10 s deadline). */
const LOOKUP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds buckets for one request's answer: loopback ~0.1 ms up to the 4 s timeout ceiling. */
const RTT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4];
const RTT_QUANTILES = [0.5, 0.9, 0.99];

/**
 * The DHT node's Prometheus metrics. Two sources: what the library reports as it happens through its
 * MetricsSink (lookups and their durations, answer times), and its `stats()` counters, read once per scrape.
 * Names follow Prometheus conventions: `kad_` prefix, `_total` counters, base units (seconds, bytes).
 */
export class DhtMetrics implements MetricsSink {
  private readonly sync = new StatsCounterSync();
  private readonly lookups: Counter<'kind' | 'result'>;
  private readonly lookupSeconds: Histogram<'kind'>;
  private readonly rpcSeconds: Histogram<string>;
  private counters: Record<string, Counter<string>> | undefined;
  private dht: KademliaDHT | undefined;
  private startedAtMs: number | undefined;

  constructor(private readonly metrics: MetricsService) {
    this.lookups = metrics.counter({
      name: 'kad_lookups_total',
      help: 'Iterative lookups by kind (node, value) and how they finished (converged, exhausted, deadline, ...).',
      labelNames: ['kind', 'result'],
    });
    this.lookupSeconds = metrics.histogram({
      name: 'kad_lookup_duration_seconds',
      help: 'Duration of iterative lookups.',
      labelNames: ['kind'],
      buckets: LOOKUP_BUCKETS,
    });
    this.rpcSeconds = metrics.histogram({
      name: 'kad_rpc_response_seconds',
      help: 'Time from sending a request to a peer to its answer (first attempts only).',
      buckets: RTT_BUCKETS,
    });
    this.registerScrapeMetrics();
  }

  /** The node whose stats() the scrape reads; undefined while it is not running. */
  attach(dht: KademliaDHT | undefined): void {
    this.dht = dht;
    this.startedAtMs = dht ? Date.now() : undefined;
  }

  increment(name: string, labels: Labels = {}, value = 1): void {
    if (name === 'kad_lookups_total') this.lookups.inc({ kind: labels.kind, result: labels.result }, value);
  }

  observe(name: string, value: number, labels: Labels = {}): void {
    if (name === 'kad_lookup_duration_seconds') this.lookupSeconds.observe({ kind: labels.kind }, value);
    else if (name === 'kad_rpc_response_seconds') this.rpcSeconds.observe(value);
  }

  private stats(): DhtStats | undefined {
    if (!this.dht?.isRunning) return undefined;
    return this.dht.stats();
  }

  private registerScrapeMetrics(): void {
    // collect() runs with `this` bound to the metric; these arrows reach the node.
    const isRunning = () => this.dht?.isRunning === true;
    const uptimeSeconds = () =>
      this.startedAtMs === undefined ? undefined : (Date.now() - this.startedAtMs) / 1000;
    const peerRtts = () => this.peerRtts();
    // Every stats-backed counter syncs the whole set on collect; once per scrape, since a scrape collects every
    // metric synchronously in one turn of the event loop.
    let synced = false;
    const syncOnce = () => {
      if (synced) return;
      synced = true;
      setImmediate(() => (synced = false));
      const stats = this.stats();
      if (stats) this.syncCounters(stats);
    };
    const counter = (name: string, help: string, labelNames: string[] = []) =>
      this.metrics.counter({ name, help, labelNames, collect: syncOnce });
    this.counters = {
      packetsIn: counter('kad_packets_received_total', 'UDP datagrams received.'),
      packetsOut: counter('kad_packets_sent_total', 'UDP datagrams sent.'),
      bytesIn: counter('kad_received_bytes_total', 'UDP payload bytes received.'),
      bytesOut: counter('kad_sent_bytes_total', 'UDP payload bytes sent.'),
      drops: counter('kad_packets_dropped_total', 'Inbound datagrams dropped, by reason.', ['reason']),
      refused: counter(
        'kad_refused_total',
        'Contacts screened out of replies or kept out of the table, and requests left unanswered, by reason.',
        ['reason'],
      ),
      requestsIn: counter('kad_requests_received_total', 'Requests received, by message type.', ['type']),
      requestsOut: counter('kad_requests_sent_total', 'Requests sent, by message type.', ['type']),
      responsesOut: counter('kad_responses_sent_total', 'Responses sent, by message type.', ['type']),
      responsesIn: counter('kad_responses_received_total', 'Responses received, by message type.', ['type']),
      rpcErrors: counter('kad_rpc_errors_total', 'Requests of ours that failed, by cause.', ['cause']),
      handshakes: counter('kad_handshakes_total', 'Encrypted-session handshakes, by outcome.', ['outcome']),
      cookies: counter('kad_cookies_sent_total', 'Stateless cookies sent instead of key agreement.'),
      valueRequests: counter('kad_value_requests_total', 'FIND_VALUE requests answered: hit or miss.', [
        'result',
      ]),
      bans: counter('kad_bans_total', 'Sources banned, by cause (rate_limit, reputation, operator).', [
        'cause',
      ]),
    };

    this.metrics.gauge({
      name: 'kad_node_up',
      help: '1 while the DHT node is running (node availability).',
      collect() {
        this.set(isRunning() ? 1 : 0);
      },
    });
    this.metrics.gauge({
      name: 'kad_node_uptime_seconds',
      help: 'Seconds since the DHT node started.',
      collect() {
        this.reset();
        const seconds = uptimeSeconds();
        if (seconds !== undefined && isRunning()) this.set(seconds);
      },
    });
    this.scrapeGauge('kad_routing_table_size', 'Contacts in the routing table.', (s) => s.tableSize);
    this.scrapeGauge(
      'kad_sessions',
      'Peers with an encrypted session.',
      (s) => (s.session as { peers?: number })?.peers,
    );
    this.scrapeGauge('kad_requests_in_flight', 'Our requests awaiting an answer.', (s) => s.inflightRequests);
    this.scrapeGauge('kad_store_records', 'Records held in the value store.', (s) => s.store.records);
    this.scrapeGauge('kad_store_bytes', 'Bytes of values held in the value store.', (s) => s.store.bytes);
    this.scrapeGauge(
      'kad_load_level',
      'Load-shedding level, 0 (nothing shed) to 4.',
      (s) => s.guard.loadShedding?.level,
    );
    this.scrapeGauge('kad_active_bans', 'Sources currently banned.', (s) => s.guard.rateLimit?.activeBans);
    const bufferStats = () => this.stats()?.bootstrapBuffer;
    this.metrics.gauge({
      name: 'kad_bootstrap_buffer_contacts',
      help: 'Bootstrap buffer contacts by state (verified: handed out; pending: not pinged yet; suspect: last ping failed).',
      labelNames: ['state'],
      collect() {
        this.reset();
        const buffer = bufferStats();
        if (!buffer) return;
        this.set({ state: 'verified' }, buffer.verified);
        this.set({ state: 'pending' }, buffer.pending);
        this.set({ state: 'suspect' }, buffer.suspect);
      },
    });
    this.scrapeGauge(
      'kad_bootstrap_buffer_bytes',
      "Bytes the bootstrap buffer's arrays hold.",
      (s) => s.bootstrapBuffer?.bytesUsed,
    );
    this.metrics.gauge({
      name: 'kad_peer_rtt_seconds',
      help: 'Round-trip time to routing-table peers, by quantile over the table (peer RTT).',
      labelNames: ['quantile'],
      collect() {
        this.reset();
        const rtts = peerRtts();
        if (rtts.length === 0) return;
        for (const q of RTT_QUANTILES) {
          this.set({ quantile: String(q) }, rtts[Math.floor(q * (rtts.length - 1))] / 1000);
        }
      },
    });
  }

  private syncCounters(s: DhtStats): void {
    const c = this.counters!;
    const sync = this.sync;
    sync.sync(c.packetsIn, {}, s.transport.packetsIn);
    sync.sync(c.packetsOut, {}, s.transport.packetsOut);
    sync.sync(c.bytesIn, {}, s.transport.bytesIn);
    sync.sync(c.bytesOut, {}, s.transport.bytesOut);
    sync.syncRecord(c.drops, 'reason', s.drops);
    sync.syncRecord(c.refused, 'reason', s.refused);
    const rpc = s.rpc as unknown as RpcStatsJson;
    sync.syncRecord(c.requestsIn, 'type', rpc.requestsReceived);
    sync.syncRecord(c.requestsOut, 'type', rpc.requestsSent);
    sync.syncRecord(c.responsesOut, 'type', rpc.responsesSent);
    sync.syncRecord(c.responsesIn, 'type', rpc.responsesReceived);
    sync.sync(c.rpcErrors, { cause: 'timeout' }, rpc.timeouts);
    sync.sync(c.rpcErrors, { cause: 'aborted' }, rpc.aborted);
    sync.sync(c.rpcErrors, { cause: 'overloaded' }, rpc.overloaded);
    sync.sync(c.rpcErrors, { cause: 'remote_error' }, rpc.remoteErrors);
    // A FIND_VALUE answered with VALUE is a hit (the cache hit rate); with NODES, a miss.
    const hits = rpc.responsesSent.value ?? 0;
    sync.sync(c.valueRequests, { result: 'hit' }, hits);
    sync.sync(
      c.valueRequests,
      { result: 'miss' },
      Math.max(0, (rpc.requestsReceived.find_value ?? 0) - hits),
    );
    const session = s.session as Partial<Record<string, number>> | undefined;
    if (session?.handshakesInitiated !== undefined) {
      sync.sync(c.handshakes, { outcome: 'initiated' }, session.handshakesInitiated);
      sync.sync(c.handshakes, { outcome: 'completed' }, session.handshakesCompleted ?? 0);
      sync.sync(c.handshakes, { outcome: 'accepted' }, session.handshakesAccepted ?? 0);
      sync.sync(c.cookies, {}, session.cookiesSent ?? 0);
    }
    sync.syncRecord(c.bans, 'cause', s.guard.rateLimit?.bans);
  }

  /** A gauge read from stats() at scrape time; a node that is not running reports nothing, not a stale figure. */
  private scrapeGauge(name: string, help: string, value: (s: DhtStats) => number | undefined): void {
    const read = () => this.stats();
    this.metrics.gauge({
      name,
      help,
      collect() {
        this.reset();
        const stats = read();
        const v = stats ? value(stats) : undefined;
        if (typeof v === 'number' && Number.isFinite(v)) this.set(v);
      },
    });
  }

  private peerRtts(): number[] {
    if (!this.dht?.isRunning) return [];
    return this.dht
      .getRoutingTableInfo()
      .contacts.map((c) => c.rttMs)
      .filter((rtt): rtt is number => typeof rtt === 'number' && Number.isFinite(rtt))
      .sort((a, b) => a - b);
  }
}
