import { TransportDecorator } from '../transport/transport-decorator';
import type { DatagramTransport, Endpoint, PacketHandler } from '../transport/transport';

/**
 * A transport that asks `admit` about every inbound datagram before the session layer sees it. Rate limits
 * and bans must act here, before decryption or key agreement: checking after would already have paid the
 * cost the limits exist to avoid. Dropped datagrams are reported to `onDrop` by reason; sends pass through.
 */
export class GuardedTransport extends TransportDecorator {
  constructor(
    inner: DatagramTransport,
    private readonly guard: {
      admit(packet: Uint8Array, from: Endpoint): string | undefined;
      onDrop(reason: string): void;
    },
  ) {
    super(inner);
  }

  override onPacket(handler: PacketHandler): void {
    this.inner.onPacket((packet, from) => {
      const refused = this.guard.admit(packet, from);
      if (refused === undefined) handler(packet, from);
      else this.guard.onDrop(refused);
    });
  }
}
