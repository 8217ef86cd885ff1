import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { fuzzPacket, waitForDrain } from './mutations';
import { KademliaDHT, generateIdentity, randomId } from '../../libs/kademlia/src';
import { encodeMessage } from '../../libs/kademlia/src/wire/codec';
import { MessageType, type Message } from '../../libs/kademlia/src/wire/messages';
import { PLAIN_HEADER_BYTES } from '../../libs/kademlia/src/session/plaintext-session';

const PACKETS = 120_000;
const BURST = 100;

jest.setTimeout(180_000);

/** A valid plaintext packet (docs/protocol.md): magic, version, PLAIN type, flags, sender key, CBOR message. */
function plainPacket(senderKey: Uint8Array, message: Message): Uint8Array {
  const payload = encodeMessage(message);
  const out = new Uint8Array(PLAIN_HEADER_BYTES + payload.length);
  out.set([0x4b, 0x44, 0x01, 0x10, 0x00]);
  out.set(senderKey, 5);
  out.set(payload, PLAIN_HEADER_BYTES);
  return out;
}

function validSamples(senderKey: Uint8Array): Uint8Array[] {
  const contact = {
    id: randomId(),
    publicKey: new Uint8Array(randomBytes(32)),
    host: '127.9.9.9',
    port: 4000,
  };
  const record = { key: randomId(), value: new Uint8Array(randomBytes(100)), ttlSeconds: 60 };
  const messages: Message[] = [
    { type: MessageType.PING, requestId: 1 },
    { type: MessageType.FIND_NODE, requestId: 2, target: randomId() },
    { type: MessageType.FIND_NODE_BY_DISTANCE, requestId: 3, distances: [160, 159, 0] },
    { type: MessageType.FIND_VALUE, requestId: 4, key: randomId() },
    { type: MessageType.STORE, requestId: 5, token: new Uint8Array(16), record },
    { type: MessageType.PONG, requestId: 6, observed: { host: '127.0.0.1', port: 1 } },
    { type: MessageType.NODES, requestId: 7, total: 1, part: 0, contacts: [contact, contact] },
    { type: MessageType.VALUE, requestId: 8, record, token: new Uint8Array(16) },
    { type: MessageType.STORE_ACK, requestId: 9, status: 0 },
    { type: MessageType.ERROR, requestId: 10, code: 1, message: 'x' },
  ];
  return messages.map((m) => plainPacket(senderKey, m));
}

describe('a live plaintext node under a flood of random and mutated packets', () => {
  let node: KademliaDHT;
  let fuzzer: Socket;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    // Rate limits off: they would ban the fuzzer at once, and this test is about the decoders (see test/flood).
    node = new KademliaDHT({
      bindAddress: '127.50.0.1',
      bindPort: 0,
      sessions: 'plaintext',
      rateLimit: false,
    });
    await node.start([]);
    fuzzer = createSocket('udp4');
    await new Promise<void>((resolve) => fuzzer.bind(0, '127.50.0.2', resolve));
  });

  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    fuzzer?.close();
    await node?.stop();
  });

  it('survives 120,000 hostile packets, counts every drop by reason, and still answers a normal client', async () => {
    const { port } = node.address();
    const samples = validSamples(generateIdentity().publicKey);
    for (let sent = 0; sent < PACKETS; sent += BURST) {
      for (let j = 0; j < BURST; j++)
        fuzzer.send(fuzzPacket(samples, sent + j, PLAIN_HEADER_BYTES), port, '127.50.0.1');
      // Pace the flood to what the node takes in, so the kernel's socket buffer does not drop most of it.
      for (let spins = 0; spins < 50 && node.stats().transport.packetsIn < sent; spins++)
        await waitForDrain();
    }
    // Let the socket queue empty before reading the counters.
    for (let i = 0; i < 50; i++) await waitForDrain();

    const stats = node.stats();
    // packetsIn counts what the transport passed up; oversize datagrams are dropped (and counted) below that.
    const received = stats.transport.packetsIn + stats.transport.oversizeDropped;
    const handled =
      Object.values(stats.rpc.requestsReceived as Record<string, number>).reduce((a, b) => a + b, 0) +
      Object.values(stats.rpc.responsesReceived as Record<string, number>).reduce((a, b) => a + b, 0);
    // UDP may lose some of the flood in the kernel; every packet the node did receive is accounted for.
    expect(received).toBeGreaterThanOrEqual(100_000);
    expect(handled + stats.droppedTotal).toBe(received);
    expect(stats.droppedTotal).toBeGreaterThan(received * 0.5);
    const reasons = Object.keys(stats.drops);
    expect(reasons.length).toBeGreaterThanOrEqual(5);
    console.log(
      `fuzz: received ${received}, handled ${handled}, dropped ${stats.droppedTotal}: ${JSON.stringify(stats.drops)}`,
    );

    const client = new KademliaDHT({ bindAddress: '127.50.0.3', bindPort: 0, sessions: 'plaintext' });
    try {
      const report = await client.start([`127.50.0.1:${port}`]);
      expect(report.bootstrapped).toBe(true);
      const pong = await client.ping(`127.50.0.1:${port}`);
      expect(Buffer.from(pong.contact.id).equals(node.nodeId)).toBe(true);
    } finally {
      await client.stop();
    }
    expect(rejections).toEqual([]);
  });
});
