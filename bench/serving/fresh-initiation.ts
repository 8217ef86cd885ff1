import { randomInt } from 'node:crypto';
import type { Identity } from '../../libs/kademlia/src';
// Internal: the public API never builds a lone INIT, but a handshake load generator (and the flood test) must,
// byte for byte as a real first contact would, so the server pays for a real Noise IK handshake.
import {
  decodeResp,
  EncryptedPacketType,
  encodeInit,
  initBodyLengthFor,
  initBodyPlaintext,
  SessionFlags,
} from '../../libs/kademlia/src/session/encrypted-packets';
import { InitiatorHandshake } from '../../libs/kademlia/src/session/handshake';
import { encodeMessage } from '../../libs/kademlia/src/wire/codec';
import { MessageType } from '../../libs/kademlia/src/wire/messages';

/** One INIT of a handshake nobody has started before, and what is needed to read its RESP. */
export interface FreshInitiation {
  /** The complete INIT packet (attempt 0, no cookie MAC), carrying one FIND_NODE. */
  packet: Uint8Array;
  /** The INIT's sender index: the RESP names it as its receiver index. */
  senderIndex: number;
  handshake: InitiatorHandshake;
}

/**
 * The first packet a brand-new client sends a kadfleet node: a fresh ephemeral key, `identity`'s static key
 * encrypted to the server's, and a FIND_NODE for `target` inside. The server cannot tell it from an honest
 * first contact without doing the key agreement (or, under load, asking for a cookie first).
 */
export function freshInitiation(input: {
  serverPublicKey: Uint8Array;
  identity: Identity;
  requestId: number;
  target: Uint8Array;
  /** Ask the server to keep us out of its routing table, as a load generator or a lookup-only client does. */
  clientMode?: boolean;
}): FreshInitiation {
  const handshake = InitiatorHandshake.start({
    local: { publicKey: input.identity.publicKey, privateKey: input.identity.privateKey },
    remoteStatic: input.serverPublicKey,
  });
  if (handshake === undefined) throw new Error('the server public key is not a usable X25519 key');
  const payload = encodeMessage({
    type: MessageType.FIND_NODE,
    requestId: input.requestId,
    target: input.target,
  });
  const flags = input.clientMode === false ? 0 : SessionFlags.CLIENT_MODE;
  const body = initBodyPlaintext(flags, payload, initBodyLengthFor(payload.length));
  const senderIndex = randomInt(1, 2 ** 32 - 1);
  const packet = encodeInit({
    senderIndex,
    attempt: 0,
    ephemeral: handshake.ephemeralPublicKey,
    encryptedStatic: handshake.encryptedStatic,
    encryptedBody: handshake.sealPayload(0, body),
  });
  return { packet, senderIndex, handshake };
}

/** The receiver index of a RESP packet (the INIT's sender index), or undefined if it is no RESP. */
export function respReceiverIndex(packet: Uint8Array): number | undefined {
  // Byte 3 of the common header `magic "KD" | version | type` names the packet type.
  if (packet.length < 4 || packet[3] !== EncryptedPacketType.RESP) return undefined;
  const fields = decodeResp(packet);
  return typeof fields === 'string' ? undefined : fields.receiverIndex;
}

/**
 * Opens a RESP with the handshake that sent the INIT: the server's first reply (the RESP carries it after one
 * flags byte), or undefined when the RESP does not authenticate.
 */
export function openResp(packet: Uint8Array, handshake: InitiatorHandshake): Uint8Array | undefined {
  if (respReceiverIndex(packet) === undefined) return undefined;
  const fields = decodeResp(packet);
  if (typeof fields === 'string') return undefined;
  const opened = handshake.openResponse(fields.attempt, fields.ephemeral, fields.encryptedBody);
  if (opened === undefined || opened.plaintext.length < 1) return undefined;
  return opened.plaintext.subarray(1);
}
