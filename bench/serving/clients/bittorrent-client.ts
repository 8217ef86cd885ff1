import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import type { ServerAddress } from '../implementations';
import { decodeBencode, encodeBencode } from './bencode';
import { bindLoadSocket, closeSocket } from './dgram-socket';
import type { ServingClient } from './serving-client';

/** Compact node info in BEP 5: 20-byte ID, 4-byte IPv4, 2-byte port. */
const COMPACT_NODE_BYTES = 26;

/** BEP 5 find_node over plain dgram: the query bittorrent-dht answers from its routing table. */
export class BittorrentClient implements ServingClient {
  readonly idSpace = 2 ** 16;
  readonly targetBytes = 20;
  private socket: Socket | undefined;
  private handler: (id: number, contacts: number) => void = () => undefined;
  /** The query with a zero transaction ID and target; send() patches both in place of re-encoding. */
  private readonly template: Buffer;
  private readonly tidOffset: number;
  private readonly targetOffset: number;

  constructor(private readonly server: ServerAddress) {
    const marker = Buffer.alloc(20, 0xee);
    const query = new Map<string, Buffer | Map<string, Buffer>>([
      [
        'a',
        new Map([
          ['id', randomBytes(20)],
          ['target', marker],
        ]),
      ],
      ['q', Buffer.from('find_node')],
      ['t', Buffer.from([0xfe, 0xfd])],
      ['y', Buffer.from('q')],
    ]);
    this.template = encodeBencode(query);
    this.targetOffset = this.template.indexOf(marker);
    this.tidOffset = this.template.indexOf(Buffer.from('1:t2:')) + 5;
  }

  async listen(host: string): Promise<void> {
    this.socket = await bindLoadSocket(host);
    this.socket.on('message', (message: Buffer) => this.receive(message));
  }

  send(id: number, target: Uint8Array): void {
    const packet = Buffer.from(this.template);
    packet.writeUInt16BE(id, this.tidOffset);
    packet.set(target, this.targetOffset);
    this.socket?.send(packet, this.server.port, this.server.host);
  }

  onAnswer(handler: (id: number, contacts: number) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    if (this.socket) await closeSocket(this.socket);
  }

  private receive(message: Buffer): void {
    const reply = decodeBencode(message);
    if (!(reply instanceof Map)) return;
    const tid = reply.get('t');
    const body = reply.get('r');
    if (!Buffer.isBuffer(tid) || tid.length !== 2 || !(body instanceof Map)) return;
    const nodes = body.get('nodes');
    const contacts = Buffer.isBuffer(nodes) ? Math.floor(nodes.length / COMPACT_NODE_BYTES) : 0;
    this.handler(tid.readUInt16BE(0), contacts);
  }
}
