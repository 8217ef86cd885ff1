import {
  EncryptedSessionLayer,
  PlaintextSessionLayer,
  UdpTransport,
  generateIdentity,
  systemClock,
  type SessionLayer,
} from '../../../libs/kademlia/src';
// Internal: the public API has no call that sends one FIND_NODE to one chosen node, which is what a load
// generator does; the codec turns the message into the bytes every kadfleet node sends.
import { encodeMessage } from '../../../libs/kademlia/src/wire/codec';
import { MessageType } from '../../../libs/kademlia/src/wire/messages';
import type { ServerAddress } from '../implementations';
import { readNodesHead } from './cbor-head';
import type { ServingClient } from './serving-client';

const MAX_PARTIAL_ANSWERS = 8_192;

/** Parts seen so far of one multi-packet NODES answer (a reply has at most 8, so a bit mask holds them). */
interface PartialAnswer {
  seen: number;
  total: number;
  contacts: number;
}

/**
 * A kadfleet client in client mode (the server answers but keeps it out of its routing table), speaking
 * through the same session layer as the server: encrypted (one Noise handshake, then DATA packets) or
 * plaintext. Multi-part NODES answers count once all their parts are in.
 */
export class KadfleetClient implements ServingClient {
  readonly idSpace = 2 ** 32;
  readonly targetBytes = 20;
  private transport: UdpTransport | undefined;
  private session: SessionLayer | undefined;
  private handler: (id: number, contacts: number) => void = () => undefined;
  private readonly partial = new Map<number, PartialAnswer>();
  private readonly peer: { endpoint: { host: string; port: number }; publicKey: Uint8Array };

  constructor(
    server: ServerAddress,
    private readonly sessions: 'encrypted' | 'plaintext',
  ) {
    if (!server.publicKeyHex) throw new Error('a kadfleet server address needs its public key');
    this.peer = {
      endpoint: { host: server.host, port: server.port },
      publicKey: new Uint8Array(Buffer.from(server.publicKeyHex, 'hex')),
    };
  }

  async listen(host: string): Promise<void> {
    const transport = new UdpTransport({
      bindAddress: host,
      bindAddress6: null,
      port: 0,
      receiveBufferBytes: 4 * 2 ** 20,
      sendBufferBytes: 4 * 2 ** 20,
    });
    const identity = generateIdentity();
    const options = { transport, identity, clientMode: true };
    const session =
      this.sessions === 'encrypted'
        ? new EncryptedSessionLayer({ ...options, clock: systemClock })
        : new PlaintextSessionLayer(options);
    session.onPayload((inbound) => this.receive(inbound.payload));
    await transport.listen();
    this.transport = transport;
    this.session = session;
  }

  send(id: number, target: Uint8Array): void {
    this.partial.delete(id);
    this.session?.send(this.peer, encodeMessage({ type: MessageType.FIND_NODE, requestId: id, target }));
  }

  onAnswer(handler: (id: number, contacts: number) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.session?.close();
    await this.transport?.close();
  }

  private receive(payload: Uint8Array): void {
    const head = readNodesHead(payload);
    if (head === undefined) return;
    const { requestId, part, total, contacts } = head;
    if (total === 1) return this.handler(requestId, contacts);
    const answer = this.partial.get(requestId) ?? { seen: 0, total, contacts: 0 };
    const bit = 1 << part;
    if (answer.seen & bit) return;
    answer.seen |= bit;
    answer.contacts += contacts;
    if (answer.seen === (1 << total) - 1) {
      this.partial.delete(requestId);
      this.handler(requestId, answer.contacts);
    } else {
      // Answers whose other parts were lost stay behind; far more than any window holds means they are stale.
      if (this.partial.size >= MAX_PARTIAL_ANSWERS) this.partial.clear();
      this.partial.set(requestId, answer);
    }
  }
}
