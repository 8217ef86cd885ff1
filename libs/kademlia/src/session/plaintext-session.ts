import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import type { Identity } from '../id/identity';
import { nodeIdFromPublicKey } from '../id/key-id';
import { idEquals } from '../id/node-id';
import type { DatagramTransport, Endpoint } from '../transport/transport';
import { COMMON_HEADER_BYTES, PacketType, readPacketHeader, writePacketHeader } from './packet-header';
import type { InboundPayload, PeerAddress, SessionDropReason, SessionLayer } from './session-layer';

export interface PlaintextSessionOptions {
  readonly transport: DatagramTransport;
  readonly identity: Identity;
  /** Marks our packets so receivers query us back but keep us out of their routing tables. */
  readonly clientMode?: boolean;
  readonly maxPacketBytes?: number;
}

/** Bits of the flags byte. Unknown bits must be zero, so a later meaning cannot be misread by old nodes. */
export const PlainFlags = {
  CLIENT_MODE: 0x01,
} as const;
const KNOWN_FLAGS = PlainFlags.CLIENT_MODE;

const PUBLIC_KEY_BYTES = 32;
const FLAGS_OFFSET = COMMON_HEADER_BYTES;
const KEY_OFFSET = FLAGS_OFFSET + 1;
/** magic(2) | version(1) | type(1) | flags(1) | sender public key(32). */
export const PLAIN_HEADER_BYTES = KEY_OFFSET + PUBLIC_KEY_BYTES;

/**
 * The session layer without a session: every packet carries its sender's static public key in the clear and
 * the message unencrypted. Anyone can claim any key, so it suits tests, the simulator and closed networks
 * only; the encrypted layer replaces it (new packet types) without changes above the SessionLayer interface.
 */
export class PlaintextSessionLayer implements SessionLayer {
  readonly maxPayloadBytes: number;
  private readonly maxPacketBytes: number;
  private readonly flags: number;
  private payloadHandler: (inbound: InboundPayload) => void = () => undefined;
  private dropHandler: (reason: SessionDropReason, from: Endpoint) => void = () => undefined;
  private closed = false;

  constructor(private readonly options: PlaintextSessionOptions) {
    this.maxPacketBytes = options.maxPacketBytes ?? DEFAULTS.maxPacketBytes;
    if (!Number.isInteger(this.maxPacketBytes) || this.maxPacketBytes <= PLAIN_HEADER_BYTES) {
      throw new KademliaError(`maxPacketBytes too small: ${this.maxPacketBytes}`, 'CONFIG_INVALID');
    }
    if (options.identity.publicKey.length !== PUBLIC_KEY_BYTES) {
      throw new KademliaError('identity public key must be 32 bytes', 'CONFIG_INVALID');
    }
    this.maxPayloadBytes = this.maxPacketBytes - PLAIN_HEADER_BYTES;
    this.flags = options.clientMode ? PlainFlags.CLIENT_MODE : 0;
    options.transport.onPacket((packet, from) => this.receive(packet, from));
  }

  /** Sends one payload; an oversized payload is a caller bug (RPC splits replies), so it throws. */
  send(to: PeerAddress, payload: Uint8Array): void {
    if (this.closed) return;
    if (payload.length > this.maxPayloadBytes) {
      throw new KademliaError(
        `payload of ${payload.length} bytes exceeds ${this.maxPayloadBytes}`,
        'WIRE_TOO_LARGE',
      );
    }
    const packet = new Uint8Array(PLAIN_HEADER_BYTES + payload.length);
    writePacketHeader(packet, PacketType.PLAIN);
    packet[FLAGS_OFFSET] = this.flags;
    packet.set(this.options.identity.publicKey, KEY_OFFSET);
    packet.set(payload, PLAIN_HEADER_BYTES);
    this.options.transport.send(packet, to.endpoint);
  }

  onPayload(handler: (inbound: InboundPayload) => void): void {
    this.payloadHandler = handler;
  }

  onDrop(handler: (reason: SessionDropReason, from: Endpoint) => void): void {
    this.dropHandler = handler;
  }

  /** Stops delivering and sending; the transport belongs to the caller, who closes it. */
  close(): void {
    this.closed = true;
  }

  // Called by the transport for every datagram: nothing may escape, or one bad packet would kill the socket.
  private receive(packet: Uint8Array, from: Endpoint): void {
    if (this.closed) return;
    try {
      const inbound = this.parse(packet, from);
      if (typeof inbound === 'string') this.drop(inbound, from);
      else this.payloadHandler(inbound);
    } catch {
      // parse() does not throw on any input, so this is the payload handler failing.
      this.drop('handler_error', from);
    }
  }

  private parse(packet: Uint8Array, from: Endpoint): InboundPayload | SessionDropReason {
    if (packet.length > this.maxPacketBytes) return 'too_large';
    const header = readPacketHeader(packet);
    if (!header.ok) return header.reason;
    if (header.packetType !== PacketType.PLAIN) return 'unknown_packet_type';
    // An empty payload cannot be a message; refusing it here keeps junk out of the decoder's counters.
    if (packet.length <= PLAIN_HEADER_BYTES) return 'too_short';
    const flags = packet[FLAGS_OFFSET];
    if ((flags & ~KNOWN_FLAGS) !== 0) return 'bad_flags';
    // A copy (Buffer#slice would be a view): the key outlives the packet in sessions and routing tables.
    const publicKey = new Uint8Array(PUBLIC_KEY_BYTES);
    publicKey.set(packet.subarray(KEY_OFFSET, PLAIN_HEADER_BYTES));
    if (isAllZero(publicKey)) return 'bad_sender_key';
    if (idEquals(publicKey, this.options.identity.publicKey)) return 'own_packet';
    return {
      from,
      publicKey,
      nodeId: nodeIdFromPublicKey(publicKey),
      clientMode: (flags & PlainFlags.CLIENT_MODE) !== 0,
      // A view, not a copy: the decoder copies the fields it keeps.
      payload: packet.subarray(PLAIN_HEADER_BYTES),
    };
  }

  private drop(reason: SessionDropReason, from: Endpoint): void {
    try {
      this.dropHandler(reason, from);
    } catch {
      // A failing drop counter must not take the socket down either.
    }
  }
}

function isAllZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
