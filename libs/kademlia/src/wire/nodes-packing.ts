import { KademliaError } from '../errors';
import type { Contact } from '../routing/contact';
import { wireIpBytes } from './ip-address';
import { MessageType, type NodesMessage } from './messages';
import { WIRE_LIMITS } from './wire-limits';

export interface PackNodesOptions {
  readonly requestId: number;
  /** In reply order (closest first); the order is kept across parts. */
  readonly contacts: readonly Contact[];
  /** Write token of a FIND_VALUE reply; repeated in every part so any one part lets the requester STORE. */
  readonly token?: Uint8Array;
  /** The session layer's maxPayloadBytes: each encoded part must fit one packet. */
  readonly maxPayloadBytes: number;
}

/**
 * Splits a reply's contacts into as few NODES messages as possible, each small enough to encode within
 * maxPayloadBytes and holding at most maxContactsPerNodes contacts, and numbers them (`part` 0..total-1). Always
 * returns at least one message (an empty list is one empty NODES). Contacts that would need more than
 * maxNodesParts parts are a WIRE_TOO_LARGE error: the caller asked for more than one reply may carry.
 *
 * Sizes are computed from the encoding rules (docs/protocol.md) rather than by trial encoding, so packing a
 * bootstrap node's reply costs no extra CBOR work; nodes-packing.spec checks the arithmetic against the codec.
 */
export function packNodes(options: PackNodesOptions): NodesMessage[] {
  const { requestId, contacts, token, maxPayloadBytes } = options;
  const groups: Contact[][] = [[]];
  let groupBytes = 0;
  for (const contact of contacts) {
    const size = encodedContactBytes(contact);
    let group = groups[groups.length - 1];
    const full = group.length === WIRE_LIMITS.maxContactsPerNodes;
    if (full || nodesMessageBytes(requestId, group.length + 1, token) + groupBytes + size > maxPayloadBytes) {
      if (group.length === 0) {
        throw new KademliaError(`one contact does not fit ${maxPayloadBytes} bytes`, 'WIRE_TOO_LARGE');
      }
      group = [];
      groups.push(group);
      groupBytes = 0;
    }
    group.push(contact);
    groupBytes += size;
  }
  if (groups.length > WIRE_LIMITS.maxNodesParts) {
    throw new KademliaError(
      `${contacts.length} contacts need ${groups.length} NODES parts, over ${WIRE_LIMITS.maxNodesParts}`,
      'WIRE_TOO_LARGE',
    );
  }
  return groups.map((group, index) => {
    const part: NodesMessage = {
      type: MessageType.NODES,
      requestId,
      total: groups.length,
      part: index,
      contacts: group,
    };
    return token === undefined ? part : { ...part, token };
  });
}

/** Bytes of a CBOR head (major type + argument) for an argument of this size, in preferred serialization. */
export function cborHeadBytes(argument: number): number {
  if (argument < 24) return 1;
  if (argument < 0x100) return 2;
  if (argument < 0x10000) return 3;
  if (argument < 0x100000000) return 5;
  return 9;
}

/** Encoded size of one contact: `[publicKey:bytes(32), ip:bytes(4|16), port]`. */
export function encodedContactBytes(contact: Contact): number {
  // Parsing (not a text check) so that IPv4-mapped IPv6 hosts count as the 4 bytes they travel as.
  const ipBytes = (contact.addressBytes ?? wireIpBytes(contact.host)).length;
  return (
    1 +
    cborHeadBytes(WIRE_LIMITS.publicKeyBytes) +
    WIRE_LIMITS.publicKeyBytes +
    cborHeadBytes(ipBytes) +
    ipBytes +
    cborHeadBytes(contact.port)
  );
}

/** Encoded size of a NODES message without its contacts' own bytes (array heads, scalars, token). */
function nodesMessageBytes(requestId: number, contactCount: number, token: Uint8Array | undefined): number {
  const tokenBytes = token === undefined ? 0 : cborHeadBytes(token.length) + token.length;
  // Outer array head, type, requestId, total (1..8) and part (0..7) one byte each, contact-list head, token.
  return 1 + 1 + cborHeadBytes(requestId) + 1 + 1 + cborHeadBytes(contactCount) + tokenBytes;
}
