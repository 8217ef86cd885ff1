import { createSocket, type Socket } from 'node:dgram';

/** A bound udp4 socket with generous buffers: the load generator must not be the one dropping datagrams. */
export async function bindLoadSocket(host: string): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 2 ** 20, sendBufferSize: 4 * 2 ** 20 });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  return socket;
}

export function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}
