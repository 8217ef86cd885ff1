import { UdpTransport, type Endpoint } from '../../libs/kademlia/src';
import { TransportDecorator } from '../../libs/kademlia/src/transport/transport-decorator';

/** A real UDP transport that keeps a copy of every packet it sends: valid traffic for a fuzzer to mutate. */
export class RecordingTransport extends TransportDecorator {
  readonly sent: Array<{ packet: Uint8Array; to: Endpoint }> = [];

  constructor(bindAddress: string) {
    super(new UdpTransport({ bindAddress, port: 0 }));
  }

  override send(packet: Uint8Array, to: Endpoint): void {
    if (this.sent.length < 1_000) this.sent.push({ packet: Uint8Array.from(packet), to });
    this.inner.send(packet, to);
  }

  /** Sends without recording: the fuzzer's packets leave from the client's own address. */
  sendRaw(packet: Uint8Array, to: Endpoint): void {
    this.inner.send(packet, to);
  }
}
