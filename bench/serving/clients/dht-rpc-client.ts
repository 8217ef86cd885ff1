import type { Socket } from 'node:dgram';
import type { ServerAddress } from '../implementations';
import { bindLoadSocket, closeSocket } from './dgram-socket';
import type { ServingClient } from './serving-client';

/**
 * dht-rpc's wire format (lib/io.js of dht-rpc 6), written out here because dht-rpc's own client paces its
 * requests with a congestion window (80 per 750 ms tick) that would cap the load far below any server's limit.
 *
 * Request:  0x03 | flags | tid u16le | to: ipv4(4) port u16le | command uint | target(32)
 * Response: 0x13 | flags | tid u16le | to(6) | [id 32] | [token 32] | [closer nodes: count uint, 6 each] | ...
 */
const REQUEST_ID = 0x03;
const RESPONSE_ID = 0x13;
const FLAG_INTERNAL = 4;
const FLAG_TARGET = 8;
const FIND_NODE = 2;
const TARGET_BYTES = 32;

export class DhtRpcClient implements ServingClient {
  readonly idSpace = 2 ** 16;
  readonly targetBytes = TARGET_BYTES;
  private socket: Socket | undefined;
  private handler: (id: number, contacts: number) => void = () => undefined;
  private readonly to: Buffer;

  constructor(private readonly server: ServerAddress) {
    this.to = Buffer.alloc(6);
    server.host.split('.').forEach((octet, i) => (this.to[i] = Number(octet)));
    this.to.writeUInt16LE(server.port, 4);
  }

  async listen(host: string): Promise<void> {
    this.socket = await bindLoadSocket(host);
    this.socket.on('message', (message: Buffer) => this.receive(message));
  }

  send(id: number, target: Uint8Array): void {
    const packet = Buffer.allocUnsafe(1 + 1 + 2 + 6 + 1 + TARGET_BYTES);
    packet[0] = REQUEST_ID;
    packet[1] = FLAG_INTERNAL | FLAG_TARGET;
    packet.writeUInt16LE(id, 2);
    this.to.copy(packet, 4);
    packet[10] = FIND_NODE;
    packet.set(target, 11);
    this.socket?.send(packet, this.server.port, this.server.host);
  }

  onAnswer(handler: (id: number, contacts: number) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    if (this.socket) await closeSocket(this.socket);
  }

  private receive(message: Buffer): void {
    if (message.length < 10 || message[0] !== RESPONSE_ID) return;
    const flags = message[1];
    const id = message.readUInt16LE(2);
    let offset = 10 + (flags & 1 ? 32 : 0) + (flags & 2 ? 32 : 0);
    let contacts = 0;
    if (flags & 4) {
      // compact-encoding uint: one byte below 0xfd; a FIND_NODE answer never lists more than k = 20.
      if (offset >= message.length || message[offset] >= 0xfd) return;
      contacts = message[offset++];
      if (offset + contacts * 6 > message.length) return;
    }
    this.handler(id, contacts);
  }
}
