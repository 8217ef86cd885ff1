import type { Socket } from 'node:dgram';
import { generateIdentity } from '../../../libs/kademlia/src';
import type { InitiatorHandshake } from '../../../libs/kademlia/src/session/handshake';
import { randomBytes } from 'node:crypto';
import { freshInitiation, openResp, respReceiverIndex, type FreshInitiation } from '../fresh-initiation';
import type { ServerAddress } from '../implementations';
import { readNodesHead } from './cbor-head';
import { bindLoadSocket, closeSocket } from './dgram-socket';
import type { ServingClient } from './serving-client';

/** Handshakes whose RESP is awaited; far more than any window holds, so only lost ones are ever pushed out. */
const MAX_PENDING = 65_536;

/**
 * A kadfleet client that never comes back: every FIND_NODE goes out in the INIT of a new Noise IK handshake
 * from a new identity, so the server does a full key agreement per request. An answer counts once its RESP
 * authenticates and carries the first NODES part (the rest waits, by the 3× rule, for a proof of address this
 * client never sends: that is steady-session work, which the other rows measure).
 */
export class HandshakeClient implements ServingClient {
  readonly idSpace = 2 ** 32;
  readonly targetBytes = 20;
  private socket: Socket | undefined;
  private handler: (id: number, contacts: number) => void = () => undefined;
  private readonly pending = new Map<
    number,
    { requestId: number; id: number; handshake: InitiatorHandshake }
  >();
  /** INITs built before the measurement (see prepare). */
  private readonly pool: Array<FreshInitiation & { requestId: number }> = [];
  private readonly serverKey: Uint8Array;

  constructor(private readonly server: ServerAddress) {
    if (!server.publicKeyHex) throw new Error('a kadfleet server address needs its public key');
    this.serverKey = new Uint8Array(Buffer.from(server.publicKeyHex, 'hex'));
  }

  async listen(host: string): Promise<void> {
    this.socket = await bindLoadSocket(host);
    this.socket.on('message', (message: Buffer) => this.receive(message));
  }

  /**
   * Builds `count` INITs now (a new identity and key agreement each, ~0.3 ms), so that during the measurement
   * the generator only sends them and reads the RESPs: building them on the fly would cap the load below what
   * the server can take. When the pool runs dry, INITs are built per request again.
   */
  prepare(count: number): void {
    for (let i = 0; i < count; i++) this.pool.push(this.build(i, randomBytes(this.targetBytes)));
  }

  send(id: number, target: Uint8Array): void {
    const init = this.pool.pop() ?? this.build(id, target);
    if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value as number);
    this.pending.set(init.senderIndex, { requestId: init.requestId, id, handshake: init.handshake });
    this.socket?.send(init.packet, this.server.port, this.server.host);
  }

  private build(requestId: number, target: Uint8Array): FreshInitiation & { requestId: number } {
    const identity = generateIdentity();
    const init = freshInitiation({ serverPublicKey: this.serverKey, identity, requestId, target });
    return { ...init, requestId };
  }

  onAnswer(handler: (id: number, contacts: number) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    if (this.socket) await closeSocket(this.socket);
  }

  private receive(packet: Uint8Array): void {
    const index = respReceiverIndex(packet);
    const pending = index === undefined ? undefined : this.pending.get(index);
    if (index === undefined || pending === undefined) return;
    const reply = openResp(packet, pending.handshake);
    if (reply === undefined) return;
    this.pending.delete(index);
    const head = readNodesHead(reply);
    if (head !== undefined && head.requestId === pending.requestId) this.handler(pending.id, head.contacts);
  }
}
