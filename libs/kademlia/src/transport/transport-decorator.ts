import type { TransportStats } from './transport-stats';
import type { DatagramTransport, Endpoint, PacketHandler } from './transport';

/**
 * A transport that wraps another and forwards everything to it; subclasses override only what they change
 * (the node's guard screens inbound packets, the simulator's lazy nodes hold them, the fuzzer records sends).
 */
export class TransportDecorator implements DatagramTransport {
  constructor(protected readonly inner: DatagramTransport) {}

  listen(): Promise<void> {
    return this.inner.listen();
  }

  send(packet: Uint8Array, to: Endpoint): void {
    this.inner.send(packet, to);
  }

  onPacket(handler: PacketHandler): void {
    this.inner.onPacket(handler);
  }

  address(): Endpoint {
    return this.inner.address();
  }

  addresses(): Endpoint[] {
    return this.inner.addresses();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  stats(): TransportStats {
    return this.inner.stats();
  }
}
