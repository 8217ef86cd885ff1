import { endpointKey, type DatagramTransport, type Endpoint, type PacketHandler } from '../transport';
import { emptyTransportStats, type TransportStats } from '../transport-stats';

/**
 * A synchronous in-memory transport for specs of one layer: a send is delivered at once to whatever `route`
 * picks (a fixed peer, or the transport bound at the destination), and a copy is kept in `sent` (and in `log`,
 * shared by several transports when the order across them matters).
 */
export class LinkedTransport implements DatagramTransport {
  readonly sent: Uint8Array[] = [];
  private handler: PacketHandler = () => undefined;

  constructor(
    readonly endpoint: Endpoint,
    private readonly route: (to: Endpoint) => LinkedTransport | undefined,
    private readonly log?: Uint8Array[],
  ) {}

  /** Two transports that deliver to each other whatever address a packet names. */
  static pair(a: Endpoint, b: Endpoint, log?: Uint8Array[]): [LinkedTransport, LinkedTransport] {
    const pair: LinkedTransport[] = [];
    pair.push(new LinkedTransport(a, () => pair[1], log), new LinkedTransport(b, () => pair[0], log));
    return [pair[0], pair[1]];
  }

  /** A set of transports that deliver by destination address; a packet to an unknown address vanishes. */
  static hub(): (endpoint: Endpoint) => LinkedTransport {
    const bound = new Map<string, LinkedTransport>();
    return (endpoint) => {
      const transport = new LinkedTransport(endpoint, (to) => bound.get(endpointKey(to)));
      bound.set(endpointKey(endpoint), transport);
      return transport;
    };
  }

  async listen(): Promise<void> {}
  send(packet: Uint8Array, to: Endpoint): void {
    const copy = Uint8Array.from(packet);
    this.sent.push(copy);
    this.log?.push(copy);
    this.route(to)?.deliver(packet, this.endpoint);
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
  async close(): Promise<void> {}
  stats(): TransportStats {
    return emptyTransportStats();
  }
  /** What the socket would do on an incoming datagram: call the handler, uncaught errors and all. */
  deliver(packet: Uint8Array, from: Endpoint): void {
    this.handler(packet, from);
  }
}
