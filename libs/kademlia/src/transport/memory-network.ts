import { isIP } from 'node:net';
import type { Clock } from '../clock';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { createRandom } from '../sim/random';
import type { LatencyModel } from '../sim/region-latency';
import { canonicalIp } from '../wire/ip-address';
import { MemoryTransport, type NetworkLink } from './memory-transport';
import { endpointKey, type Endpoint } from './transport';

export { MemoryTransport } from './memory-transport';

export interface MemoryNetworkOptions {
  /** Deliveries are timers on this clock; with a VirtualClock the whole network runs in virtual time. */
  clock: Clock;
  /** One-way delay of a packet in ms (see regionLatency); a constant DEFAULTS.simLatencyMs otherwise. */
  latencyMs?: LatencyModel;
  /** Share of packets dropped at random, 0..1. */
  lossRate?: number;
  /** Source of the loss draws; seed it (createRandom) so runs repeat. */
  random?: () => number;
  /** Larger packets are refused by the sending transport, as the UDP transport does. */
  maxPacketBytes?: number;
}

/**
 * What happened to the packets handed to the network. Every sent packet ends in exactly one of
 * delivered / lost / blocked / undeliverable, or is still in flight.
 */
export interface MemoryNetworkStats {
  sent: number;
  delivered: number;
  /** Dropped by the random loss rate. */
  lost: number;
  /** Dropped by a partition or because an end was killed. */
  blocked: number;
  /** Addressed to an endpoint that was not bound (or closed before arrival). */
  undeliverable: number;
  /** Delivered packets whose handler threw (also counted in delivered). */
  handlerErrors: number;
  inFlight: number;
}

type Partition = readonly [ReadonlySet<string>, ReadonlySet<string>];

/**
 * The simulator's network: transports addressed like UDP endpoints, packets delivered after a modelled
 * latency on the injected clock, with random loss, partitions between host groups and killed endpoints.
 * Per packet it costs one copy, one map lookup and one timer, since simulations send millions of them.
 */
export class MemoryNetwork {
  private readonly clock: Clock;
  private readonly latencyMs: LatencyModel;
  private readonly random: () => number;
  private readonly maxPacketBytes: number;
  private lossRate = 0;
  private readonly bound = new Map<string, MemoryTransport>();
  private readonly killed = new Set<string>();
  private partitions: Partition[] = [];
  private readonly counts = {
    sent: 0,
    delivered: 0,
    lost: 0,
    blocked: 0,
    undeliverable: 0,
    handlerErrors: 0,
  };

  // The transports' view of the network; arrow functions keep the network's state private.
  private readonly link: NetworkLink = {
    attach: (transport) => this.attach(transport),
    detach: (transport) => this.detach(transport),
    transmit: (packet, sender, to) => this.transmit(packet, sender, to),
  };

  constructor(options: MemoryNetworkOptions) {
    this.clock = options.clock;
    const constantMs = DEFAULTS.simLatencyMs;
    this.latencyMs = options.latencyMs ?? (() => constantMs);
    this.random = options.random ?? createRandom(DEFAULTS.simRandomSeed);
    this.maxPacketBytes = options.maxPacketBytes ?? DEFAULTS.maxPacketBytes;
    this.setLossRate(options.lossRate ?? 0);
  }

  /** A transport for `endpoint` (an IP literal and a port 1..65535); it joins the network on listen(). */
  createTransport(endpoint: Endpoint): MemoryTransport {
    const { host, port } = endpoint;
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new KademliaError(`port must be an integer within 1..65535, got ${port}`, 'CONFIG_INVALID');
    }
    const canonical = { host: hostOrThrow(host), port };
    return new MemoryTransport({ endpoint: canonical, link: this.link, maxPacketBytes: this.maxPacketBytes });
  }

  /** The listening transport at `endpoint`, if any. */
  transportAt(endpoint: Endpoint): MemoryTransport | undefined {
    return this.lookup(endpoint);
  }

  /** Listening transports. */
  size(): number {
    return this.bound.size;
  }

  setLossRate(rate: number): void {
    if (!(rate >= 0 && rate <= 1)) {
      throw new KademliaError(`loss rate must be within 0..1, got ${rate}`, 'CONFIG_INVALID');
    }
    this.lossRate = rate;
  }

  /** Drops every packet between a host of `a` and a host of `b`, both ways, including those in flight. */
  partition(a: readonly string[], b: readonly string[]): void {
    this.partitions.push([new Set(a.map(hostOrThrow)), new Set(b.map(hostOrThrow))]);
  }

  /** Lifts every partition. */
  heal(): void {
    this.partitions = [];
  }

  /** Silently drops everything to and from `endpoint` (in flight too), as if its host had crashed. */
  kill(endpoint: Endpoint): void {
    this.killed.add(endpointKey({ host: hostOrThrow(endpoint.host), port: endpoint.port }));
  }

  revive(endpoint: Endpoint): void {
    this.killed.delete(endpointKey({ host: hostOrThrow(endpoint.host), port: endpoint.port }));
  }

  stats(): MemoryNetworkStats {
    const { sent, delivered, lost, blocked, undeliverable } = this.counts;
    return { ...this.counts, inFlight: sent - delivered - lost - blocked - undeliverable };
  }

  private attach(transport: MemoryTransport): void {
    if (this.bound.has(transport.key)) {
      throw new KademliaError(`address in use: ${transport.key}`, 'TRANSPORT_BIND_FAILED', {
        endpoint: transport.key,
      });
    }
    this.bound.set(transport.key, transport);
  }

  private detach(transport: MemoryTransport): void {
    if (this.bound.get(transport.key) === transport) this.bound.delete(transport.key);
  }

  private transmit(packet: Uint8Array, sender: MemoryTransport, to: Endpoint): void {
    this.counts.sent++;
    const recipient = this.lookup(to);
    if (recipient === undefined) {
      this.counts.undeliverable++;
      return;
    }
    if (this.isBlocked(sender, recipient)) {
      this.counts.blocked++;
      return;
    }
    if (this.lossRate > 0 && this.random() < this.lossRate) {
      this.counts.lost++;
      return;
    }
    // Copied now: the sender may reuse its buffer before the packet arrives. allocUnsafe carves small
    // copies out of a shared pool, several times cheaper than one ArrayBuffer per packet; set() fills it.
    const copy = Buffer.allocUnsafe(packet.length);
    copy.set(packet);
    const delay = this.latencyMs(sender.endpoint, recipient.endpoint);
    this.clock.setTimeout(() => this.deliver(copy, sender, recipient), delay);
  }

  private deliver(packet: Uint8Array, sender: MemoryTransport, recipient: MemoryTransport): void {
    if (!recipient.isListening()) {
      this.counts.undeliverable++;
      return;
    }
    if (this.isBlocked(sender, recipient)) {
      this.counts.blocked++;
      return;
    }
    this.counts.delivered++;
    if (!recipient.receive(packet, sender.endpoint)) this.counts.handlerErrors++;
  }

  private lookup(to: Endpoint): MemoryTransport | undefined {
    const found = this.bound.get(endpointKey(to));
    if (found !== undefined) return found;
    // Only on a miss: the same address written another way (::ffff:1.2.3.4, uppercase IPv6).
    const canonical = canonicalHost(to.host);
    if (canonical === undefined || canonical === to.host) return undefined;
    return this.bound.get(endpointKey({ host: canonical, port: to.port }));
  }

  private isBlocked(sender: MemoryTransport, recipient: MemoryTransport): boolean {
    if (this.killed.size > 0 && (this.killed.has(sender.key) || this.killed.has(recipient.key))) return true;
    if (this.partitions.length === 0) return false;
    const from = sender.endpoint.host;
    const to = recipient.endpoint.host;
    for (const [a, b] of this.partitions) {
      if ((a.has(from) && b.has(to)) || (b.has(from) && a.has(to))) return true;
    }
    return false;
  }
}

/** The canonical text of an IP literal, or undefined for anything else (hostnames, zone indexes, junk). */
function canonicalHost(host: unknown): string | undefined {
  if (typeof host !== 'string' || isIP(host) === 0) return undefined;
  try {
    return canonicalIp(host);
  } catch {
    return undefined;
  }
}

function hostOrThrow(host: string): string {
  const canonical = canonicalHost(host);
  if (canonical === undefined) {
    throw new KademliaError(
      `not an IP literal: ${JSON.stringify(String(host).slice(0, 64))}`,
      'CONFIG_INVALID',
    );
  }
  return canonical;
}
