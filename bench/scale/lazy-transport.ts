import type { DatagramTransport, Endpoint } from '../../libs/kademlia/src';
import { TransportDecorator } from '../../libs/kademlia/src/transport/transport-decorator';

type PacketHandler = (packet: Uint8Array, from: Endpoint) => void;

/** Packets held per node while it is being built; a lookup sends a node one request at a time, so 64 is ample. */
const MAX_HELD_PACKETS = 64;

/**
 * A transport of the simulator's network for a node that exists only once someone talks to it.
 *
 * - Before each send it calls `beforeSend(to)`, so the network can build the node at `to` first (a packet to
 *   an unbuilt node would otherwise be undeliverable).
 * - Packets that arrive before `open()` (the node's routing table is still being filled) are held, then
 *   handed over in order: a node never answers from a half-built table.
 */
export class LazyTransport extends TransportDecorator {
  private handler: PacketHandler | undefined;
  private held: Array<[Uint8Array, Endpoint]> | undefined = [];
  private heldDropped = 0;

  constructor(
    inner: DatagramTransport,
    private readonly beforeSend: (to: Endpoint) => void,
  ) {
    super(inner);
    inner.onPacket((packet, from) => {
      if (this.held === undefined) this.handler?.(packet, from);
      else if (this.held.length < MAX_HELD_PACKETS) this.held.push([packet, from]);
      else this.heldDropped++;
    });
  }

  /** The node is ready: deliver what arrived meanwhile, then pass packets straight through. */
  open(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const [packet, from] of held) this.handler?.(packet, from);
  }

  /** Packets dropped because too many arrived before open(); the benchmark reports it (it should be 0). */
  get droppedWhileBuilding(): number {
    return this.heldDropped;
  }

  override send(packet: Uint8Array, to: Endpoint): void {
    this.beforeSend(to);
    this.inner.send(packet, to);
  }

  override onPacket(handler: PacketHandler): void {
    this.handler = handler;
  }
}
