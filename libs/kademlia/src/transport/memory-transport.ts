import { KademliaError } from '../errors';
import { emptyTransportStats, type TransportStats } from './transport-stats';
import { endpointKey, type DatagramTransport, type Endpoint, type PacketHandler } from './transport';

/** What a MemoryTransport may ask of its network; MemoryNetwork implements it and keeps the rest private. */
export interface NetworkLink {
  /** Joins the network; throws TRANSPORT_BIND_FAILED when the endpoint is taken. */
  attach(transport: MemoryTransport): void;
  detach(transport: MemoryTransport): void;
  transmit(packet: Uint8Array, sender: MemoryTransport, to: Endpoint): void;
}

export interface MemoryTransportOptions {
  /** Canonical host text; the network hands out transports with it already normalised. */
  endpoint: Endpoint;
  link: NetworkLink;
  maxPacketBytes: number;
}

/** One endpoint of a MemoryNetwork; behaves like UdpTransport (never throws from send, counts drops). */
export class MemoryTransport implements DatagramTransport {
  readonly endpoint: Endpoint;
  /** endpointKey(endpoint), computed once: the network indexes and compares transports by it. */
  readonly key: string;
  private readonly link: NetworkLink;
  private readonly maxPacketBytes: number;
  private handler: PacketHandler | undefined;
  private state: 'idle' | 'listening' | 'closed' = 'idle';
  private readonly counters = emptyTransportStats();

  constructor(options: MemoryTransportOptions) {
    this.endpoint = options.endpoint;
    this.key = endpointKey(options.endpoint);
    this.link = options.link;
    this.maxPacketBytes = options.maxPacketBytes;
  }

  async listen(): Promise<void> {
    if (this.state === 'closed') throw new KademliaError('transport is closed', 'TRANSPORT_CLOSED');
    if (this.state === 'listening') throw new KademliaError('transport already listening', 'ALREADY_STARTED');
    this.link.attach(this);
    this.state = 'listening';
  }

  send(packet: Uint8Array, to: Endpoint): void {
    if (this.state !== 'listening') {
      this.counters.sendErrors++;
      return;
    }
    if (packet.length > this.maxPacketBytes) {
      this.counters.oversizeRefused++;
      return;
    }
    this.counters.packetsOut++;
    this.counters.bytesOut += packet.length;
    this.link.transmit(packet, this, to);
  }

  onPacket(handler: PacketHandler): void {
    this.handler = handler;
  }

  address(): Endpoint {
    return this.endpoint;
  }

  addresses(): Endpoint[] {
    return [this.endpoint];
  }

  async close(): Promise<void> {
    if (this.state === 'listening') this.link.detach(this);
    this.state = 'closed';
  }

  isListening(): boolean {
    return this.state === 'listening';
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  /** Called by the network on arrival; false when the handler threw (counted here and by the network). */
  receive(packet: Uint8Array, from: Endpoint): boolean {
    this.counters.packetsIn++;
    this.counters.bytesIn += packet.length;
    const handler = this.handler;
    if (handler === undefined) return true;
    try {
      handler(packet, from);
      return true;
    } catch {
      this.counters.handlerErrors++;
      return false;
    }
  }
}
