import { generateIdentity, type Identity } from '../../id/identity';
import { VirtualClock } from '../../sim/virtual-clock';
import { MemoryNetwork, type MemoryTransport } from '../../transport/memory-network';
import type { Endpoint } from '../../transport/transport';
import { EncryptedSessionLayer, type EncryptedSessionOptions } from '../encrypted-session';
import type { InboundPayload, SessionDropReason } from '../session-layer';

/** One packet as an observer on the wire sees it. */
export interface WirePacket {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly bytes: Uint8Array;
}

export interface TestPeer {
  readonly endpoint: Endpoint;
  readonly identity: Identity;
  readonly transport: MemoryTransport;
  layer: EncryptedSessionLayer;
  readonly received: InboundPayload[];
  readonly drops: SessionDropReason[];
  /** Replies the handler sends back, synchronously, for each payload (as RPC does); none by default. */
  respond: (payload: Uint8Array) => Uint8Array[];
}

export type PeerOptions = Omit<EncryptedSessionOptions, 'transport' | 'identity' | 'clock'> & {
  identity?: Identity;
  /** Answer every payload with echoOf(payload). */
  echo?: boolean;
};

/**
 * A MemoryNetwork on a virtual clock with encrypted layers on it, and a tap that records every packet sent
 * (the passive observer). Each peer records what it received and dropped, and answers each payload
 * synchronously with `respond` (with `echo`, the same bytes prefixed by 0xee), the way RPC handlers answer.
 */
export class SessionHarness {
  readonly clock = new VirtualClock();
  readonly network = new MemoryNetwork({ clock: this.clock, latencyMs: () => 10 });
  readonly wire: WirePacket[] = [];

  async peer(endpoint: Endpoint, options: PeerOptions = {}): Promise<TestPeer> {
    const transport = this.network.createTransport(endpoint);
    const send = transport.send.bind(transport);
    transport.send = (packet, to) => {
      this.wire.push({ from: transport.endpoint, to, bytes: new Uint8Array(packet) });
      send(packet, to);
    };
    const identity = options.identity ?? generateIdentity();
    const peer: TestPeer = {
      endpoint: transport.endpoint,
      identity,
      transport,
      layer: undefined as never,
      received: [],
      drops: [],
      // An echo is never echoed again, so peers that all echo do not ping-pong forever.
      respond: options.echo ? (payload) => (payload[0] === 0xee ? [] : [echoOf(payload)]) : () => [],
    };
    this.attach(peer, options);
    await transport.listen();
    return peer;
  }

  /** A new layer on the peer's transport: the process restarted and lost every session. */
  restart(peer: TestPeer, options: PeerOptions = {}): void {
    peer.layer.close();
    this.attach(peer, options);
  }

  /** Lets every packet in flight arrive (the network's latency is 10 ms per hop). */
  async settle(ms = 100): Promise<void> {
    await this.clock.advance(ms);
  }

  private attach(peer: TestPeer, options: PeerOptions): void {
    const { identity: _identity, echo: _echo, ...layerOptions } = options;
    const layer = new EncryptedSessionLayer({
      transport: peer.transport,
      identity: peer.identity,
      clock: this.clock,
      ...layerOptions,
    });
    layer.onPayload((inbound) => {
      peer.received.push({ ...inbound, payload: new Uint8Array(inbound.payload) });
      for (const reply of peer.respond(inbound.payload)) {
        layer.send({ endpoint: inbound.from, publicKey: inbound.publicKey }, reply);
      }
    });
    layer.onDrop((reason) => peer.drops.push(reason));
    peer.layer = layer;
  }
}

export function echoOf(payload: Uint8Array): Uint8Array {
  const reply = new Uint8Array(payload.length + 1);
  reply[0] = 0xee;
  reply.set(payload, 1);
  return reply;
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Packet type byte of a captured packet. */
export function packetType(packet: WirePacket): number {
  return packet.bytes[3];
}
