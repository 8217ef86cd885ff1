import { nodeIdFromPublicKey } from '../../id/key-id';
import type { NodeId } from '../../id/node-id';
import type { Contact } from '../../routing/contact';
import type {
  InboundPayload,
  PeerAddress,
  SessionDropReason,
  SessionLayer,
} from '../../session/session-layer';
import type { Endpoint } from '../../transport/transport';
import { decodeMessage, encodeMessage } from '../../wire/codec';
import type { Message } from '../../wire/messages';

/**
 * Test-only session layer for RPC specs: it records what the engine sends (decoded with the real codec) and
 * lets a test deliver any message, from any address and key, synchronously. The test plays every remote peer.
 */

/** A remote peer as a test plays it: where it sits and the key it signs its packets with. */
export interface FakePeer {
  readonly endpoint: Endpoint;
  readonly publicKey: Uint8Array;
  readonly nodeId: NodeId;
  /** What RpcEngine.request() takes to reach this peer with its key pinned. */
  readonly address: PeerAddress;
  readonly contact: Contact;
}

/** A deterministic peer: key bytes derived from `n`, address 10.0.x.y:4000+n. */
export function fakePeer(n: number, endpoint?: Endpoint): FakePeer {
  const publicKey = new Uint8Array(32).fill(n & 0xff);
  publicKey[0] = 0xa0;
  publicKey[31] = (n >> 8) & 0xff;
  const at = endpoint ?? { host: `10.0.${(n >> 8) & 0xff}.${n & 0xff}`, port: 4000 + n };
  const nodeId = nodeIdFromPublicKey(publicKey);
  return {
    endpoint: at,
    publicKey,
    nodeId,
    address: { endpoint: at, publicKey },
    contact: { id: nodeId, publicKey, host: at.host, port: at.port },
  };
}

export interface SentMessage {
  readonly to: PeerAddress;
  readonly message: Message;
}

export class FakeSession implements SessionLayer {
  readonly maxPayloadBytes = 1195;
  readonly sent: SentMessage[] = [];
  closed = false;
  private handler: (inbound: InboundPayload) => void = () => undefined;

  send(to: PeerAddress, payload: Uint8Array): void {
    const decoded = decodeMessage(payload);
    if (!decoded.ok) throw new Error(`engine sent an undecodable payload: ${decoded.reason}`);
    this.sent.push({ to, message: decoded.message });
  }

  onPayload(handler: (inbound: InboundPayload) => void): void {
    this.handler = handler;
  }

  onDrop(_handler: (reason: SessionDropReason, from: Endpoint) => void): void {
    // The fake never drops anything itself.
  }

  close(): void {
    this.closed = true;
  }

  /** The most recent message the engine sent; throws when it sent nothing. */
  last(): SentMessage {
    const last = this.sent.at(-1);
    if (!last) throw new Error('nothing was sent');
    return last;
  }

  /** Delivers `message` as if `from` had sent it (encoded with the real codec, so it must be valid). */
  deliver(from: Pick<FakePeer, 'endpoint' | 'publicKey'>, message: Message): void {
    this.deliverRaw(from, encodeMessage(message));
  }

  deliverRaw(from: Pick<FakePeer, 'endpoint' | 'publicKey'>, payload: Uint8Array): void {
    this.handler({
      from: from.endpoint,
      publicKey: from.publicKey,
      nodeId: nodeIdFromPublicKey(from.publicKey),
      clientMode: false,
      payload,
    });
  }
}
