import type { Socket } from 'node:dgram';
import type { ServerAddress } from '../implementations';
import { bindLoadSocket, closeSocket } from './dgram-socket';
import type { ServingClient } from './serving-client';

/** About the size of a FIND_NODE request, so the echo's cost per datagram compares with the DHTs'. */
const ECHO_BYTES = 64;

export class EchoClient implements ServingClient {
  readonly idSpace = 2 ** 32;
  readonly targetBytes = 20;
  private socket: Socket | undefined;
  private handler: (id: number, contacts: number) => void = () => undefined;

  constructor(private readonly server: ServerAddress) {}

  async listen(host: string): Promise<void> {
    this.socket = await bindLoadSocket(host);
    this.socket.on('message', (message: Buffer) => {
      if (message.length >= 4) this.handler(message.readUInt32BE(0), 0);
    });
  }

  send(id: number, target: Uint8Array): void {
    const packet = Buffer.alloc(ECHO_BYTES);
    packet.writeUInt32BE(id, 0);
    packet.set(target.subarray(0, ECHO_BYTES - 4), 4);
    this.socket?.send(packet, this.server.port, this.server.host);
  }

  onAnswer(handler: (id: number, contacts: number) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    if (this.socket) await closeSocket(this.socket);
  }
}
