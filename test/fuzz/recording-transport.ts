import { UdpTransport, type DatagramTransport, type Endpoint } from '../../libs/kademlia/src';
import type { PacketHandler } from '../../libs/kademlia/src/transport/transport';

/** A real UDP transport that keeps a copy of every packet it sends: valid traffic for a fuzzer to mutate. */
export class RecordingTransport implements DatagramTransport {
  readonly sent: Array<{ packet: Uint8Array; to: Endpoint }> = [];
  private readonly inner: UdpTransport;

  constructor(bindAddress: string) {
    this.inner = new UdpTransport({ bindAddress, port: 0 });
  }

  listen(): Promise<void> {
    return this.inner.listen();
  }
  send(packet: Uint8Array, to: Endpoint): void {
    if (this.sent.length < 1_000) this.sent.push({ packet: Uint8Array.from(packet), to });
    this.inner.send(packet, to);
  }
  /** Sends without recording: the fuzzer's packets leave from the client's own address. */
  sendRaw(packet: Uint8Array, to: Endpoint): void {
    this.inner.send(packet, to);
  }
  onPacket(handler: PacketHandler): void {
    this.inner.onPacket(handler);
  }
  address(): Endpoint {
    return this.inner.address();
  }
  addresses(): Endpoint[] {
    return this.inner.addresses();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  stats() {
    return this.inner.stats();
  }
}
