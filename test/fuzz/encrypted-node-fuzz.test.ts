import { createSocket, type Socket } from 'node:dgram';
import { KademliaDHT, randomId } from '../../libs/kademlia/src';
import { fuzzPacket, waitForDrain } from './mutations';
import { RecordingTransport } from './recording-transport';

const PACKETS = 120_000;
const BURST = 100;
/** Packet type and session index survive the cut, so mutated packets reach the session's inner checks. */
const KEEP_PREFIX_BYTES = 8;

jest.setTimeout(240_000);

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

describe('a live encrypted node under a flood of random, mutated and replayed packets', () => {
  let node: KademliaDHT;
  let client: KademliaDHT;
  let recorder: RecordingTransport;
  let stranger: Socket;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    // Rate limits off: they would ban the fuzzer within a second, and this test is about what the decoders do
    // with hostile bytes. The limits themselves are tested by test/flood and the node-guard specs.
    node = new KademliaDHT({ bindAddress: '127.51.0.1', bindPort: 0, rateLimit: false });
    await node.start([]);
    recorder = new RecordingTransport('127.51.0.2');
    client = new KademliaDHT({ transport: recorder });
    await client.start([`127.51.0.1:${node.address().port}`]);
    stranger = createSocket('udp4');
    await new Promise<void>((resolve) => stranger.bind(0, '127.51.0.3', resolve));
  });

  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    stranger?.close();
    await client?.stop();
    await node?.stop();
  });

  it('survives 120,000 hostile packets, accounts for every one, and keeps serving its real client', async () => {
    // Real encrypted traffic to mutate: key discovery, the handshake, requests in DATA packets.
    await client.ping(`127.51.0.1:${node.address().port}`);
    await client.findNode(randomId());
    await client.store('fuzz-key', 'fuzz-value');
    const samples = recorder.sent.filter((s) => s.to.port === node.address().port).map((s) => s.packet);
    expect(samples.length).toBeGreaterThanOrEqual(4);

    const target = { host: '127.51.0.1', port: node.address().port };
    for (let sent = 0; sent < PACKETS; sent += BURST) {
      for (let j = 0; j < BURST; j++) {
        const packet = fuzzPacket(samples, sent + j, KEEP_PREFIX_BYTES);
        // Half come from the client's own address (its session lives there), half from a stranger.
        if ((sent + j) % 2 === 0) recorder.sendRaw(packet, target);
        else stranger.send(packet, target.port, target.host);
      }
      for (let spins = 0; spins < 50 && node.stats().transport.packetsIn < sent; spins++)
        await waitForDrain();
    }
    for (let i = 0; i < 50; i++) await waitForDrain();

    const stats = node.stats();
    const received = stats.transport.packetsIn + stats.transport.oversizeDropped;
    const session = stats.session as {
      controlPackets: number;
      droppedPackets: number;
      payloadPackets: number;
    };
    const rpc = stats.rpc as Record<string, Record<string, number>>;
    // Every datagram ends exactly once: dropped by the transport, dropped or consumed as a control packet by the
    // session layer, or delivered as a payload that RPC then handles as a request or response or drops by reason.
    const delivered = sum(rpc.requestsReceived) + sum(rpc.responsesReceived) + sum(rpc.drops);
    console.log(
      `encrypted fuzz: received ${received}; session dropped ${session.droppedPackets}, control ` +
        `${session.controlPackets}, payloads ${session.payloadPackets} (RPC handled or dropped ${delivered}); ` +
        `drop reasons ${JSON.stringify(stats.drops)}`,
    );
    expect(delivered).toBe(session.payloadPackets);
    // The guard (load shedding of handshakes) drops before the session layer sees a datagram.
    const guarded = Object.entries(stats.drops)
      .filter(([reason]) => reason.startsWith('guard_'))
      .reduce((total, [, count]) => total + count, 0);
    expect(
      stats.transport.oversizeDropped + guarded + session.droppedPackets + session.controlPackets + delivered,
    ).toBe(received);
    expect(received).toBeGreaterThanOrEqual(100_000);
    expect(
      Object.keys(stats.drops).filter((reason) => stats.drops[reason] > 0).length,
    ).toBeGreaterThanOrEqual(5);

    // The real client's session still works, and a brand-new client can still handshake and look things up.
    expect(Buffer.from((await client.findValue('fuzz-key'))!).toString()).toBe('fuzz-value');
    const fresh = new KademliaDHT({ bindAddress: '127.51.0.4', bindPort: 0 });
    try {
      const report = await fresh.start([`127.51.0.1:${node.address().port}`]);
      expect(report.bootstrapped).toBe(true);
      expect((await fresh.findNode(randomId())).length).toBeGreaterThanOrEqual(1);
    } finally {
      await fresh.stop();
    }
    expect(rejections).toEqual([]);
  });
});
