import {
  KademliaDHT,
  MemoryNetwork,
  VirtualClock,
  keyToId,
  type DatagramTransport,
  type Endpoint,
} from '../../libs/kademlia/src';
import { createRandom } from '../../libs/kademlia/src/sim/random';
import { TransportDecorator } from '../../libs/kademlia/src/transport/transport-decorator';
import { ipToBytes } from '../../libs/kademlia/src/wire/ip-address';

jest.setTimeout(60_000);

/** Every datagram any node sends, as a passive observer on the path would see it (while `on`). */
class Tap {
  on = false;
  readonly packets: Uint8Array[] = [];
  wrap(inner: DatagramTransport): DatagramTransport {
    const record = (packet: Uint8Array) => {
      if (this.on) this.packets.push(Uint8Array.from(packet));
    };
    return new (class extends TransportDecorator {
      override send(packet: Uint8Array, to: Endpoint): void {
        record(packet);
        super.send(packet, to);
      }
    })(inner);
  }
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(Buffer.from(needle));
}

describe('a passive observer of an encrypted network', () => {
  it('sees no node ID, public key, address, key or value in any packet of a lookup and a store', async () => {
    const random = createRandom(7);
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock, random, latencyMs: () => 5 + random() * 10 });
    const tap = new Tap();
    const nodes: KademliaDHT[] = [];
    const hostOf = (i: number) => `44.${10 + i}.${(i * 37) % 250}.${1 + ((i * 11) % 250)}`;
    for (let i = 0; i < 25; i++) {
      const node = new KademliaDHT({
        transport: tap.wrap(network.createTransport({ host: hostOf(i), port: 6881 })),
        clock,
      });
      await clock.runUntilSettled(node.start(i === 0 ? [] : [`${hostOf(0)}:6881`]));
      nodes.push(node);
    }
    try {
      // Only the operations are observed: the join's first contacts learn keys by discovery (TOFU), whose KEY
      // reply carries the responder's public key by design (docs/protocol-sessions.md).
      tap.on = true;
      const key = 'observer-test-key@privatus';
      const value = new TextEncoder().encode('VALUE-THAT-MUST-STAY-SECRET-0042');
      const report = await clock.runUntilSettled(nodes[3].store(key, value));
      expect(report.acknowledged).toBeGreaterThan(10);
      const found = await clock.runUntilSettled(nodes[17].findValue(key));
      expect(Buffer.from(found!).toString()).toBe('VALUE-THAT-MUST-STAY-SECRET-0042');
      await clock.runUntilSettled(nodes[9].findNode(nodes[21].nodeId));
      tap.on = false;
      expect(tap.packets.length).toBeGreaterThan(100);

      const forbidden: Array<{ what: string; bytes: Uint8Array }> = [
        { what: 'the key name', bytes: new TextEncoder().encode(key) },
        { what: 'the key ID', bytes: keyToId(key) },
        { what: 'the value', bytes: value.subarray(0, 16) },
      ];
      nodes.forEach((node, i) => {
        forbidden.push({ what: `node ${i} ID`, bytes: node.nodeId });
        forbidden.push({ what: `node ${i} public key`, bytes: node.publicKey });
        forbidden.push({ what: `node ${i} address`, bytes: ipToBytes(hostOf(i)) });
      });
      const seen = forbidden.filter((f) => tap.packets.some((p) => contains(p, f.bytes))).map((f) => f.what);
      expect(seen).toEqual([]);
    } finally {
      await clock.runUntilSettled(Promise.all(nodes.map((n) => n.stop())));
    }
  });
});
