import type { SessionDropReason } from './session-layer';

/**
 * The 4 bytes every packet starts with, whatever session layer wrote it: `magic "KD" | version | type`.
 * The type byte picks the layout of the rest, so the encrypted layer adds its own types (handshake,
 * data, cookie) next to PLAIN without a version bump, and a node can tell an old peer's packets apart.
 */
export const PACKET_MAGIC_0 = 0x4b; // 'K'
export const PACKET_MAGIC_1 = 0x44; // 'D'
export const PROTOCOL_VERSION = 0x01;
export const COMMON_HEADER_BYTES = 4;

/** Packet types. 0x01-0x0f are reserved for the encrypted session layer's handshake and data packets. */
export const PacketType = {
  /** Unencrypted: the sender's static public key in the clear, then the message. */
  PLAIN: 0x10,
} as const;

export type HeaderCheck = { ok: true; packetType: number } | { ok: false; reason: SessionDropReason };

/** Checks magic and version; the caller decides whether it handles the packet type it gets back. */
export function readPacketHeader(packet: Uint8Array): HeaderCheck {
  if (packet.length < COMMON_HEADER_BYTES) return { ok: false, reason: 'too_short' };
  if (packet[0] !== PACKET_MAGIC_0 || packet[1] !== PACKET_MAGIC_1) return { ok: false, reason: 'bad_magic' };
  if (packet[2] !== PROTOCOL_VERSION) return { ok: false, reason: 'bad_version' };
  return { ok: true, packetType: packet[3] };
}

export function writePacketHeader(out: Uint8Array, packetType: number): void {
  out[0] = PACKET_MAGIC_0;
  out[1] = PACKET_MAGIC_1;
  out[2] = PROTOCOL_VERSION;
  out[3] = packetType;
}
