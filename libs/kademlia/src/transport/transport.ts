import type { TransportStats } from './transport-stats';

/** Where a datagram goes or came from. `host` is always an IP literal (IPv4 dotted or IPv6). */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export type PacketHandler = (packet: Uint8Array, from: Endpoint) => void;

/**
 * The bottom layer: unreliable datagrams. Implementations: UDP (dual-stack) and the in-memory
 * network of the simulator. A transport never throws out of `send`; failures are counted and dropped,
 * as UDP itself would.
 */
export interface DatagramTransport {
  /** Binds the sockets; resolves once packets can flow. */
  listen(): Promise<void>;
  send(packet: Uint8Array, to: Endpoint): void;
  /** One handler; set before listen(). Called synchronously per datagram. */
  onPacket(handler: PacketHandler): void;
  /** The bound address (for UDP with port 0, the port the OS picked). */
  address(): Endpoint;
  /** Every bound address (udp4 and udp6 may both be bound). */
  addresses(): Endpoint[];
  close(): Promise<void>;
  /** Packet and byte counters, including what the transport itself dropped. */
  stats(): TransportStats;
}

export function endpointKey(endpoint: Endpoint): string {
  return endpoint.host.includes(':')
    ? `[${endpoint.host}]:${endpoint.port}`
    : `${endpoint.host}:${endpoint.port}`;
}

export function endpointEquals(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && a.host === b.host;
}
