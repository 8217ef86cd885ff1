import { isKademliaError } from '../errors';
import { createRandom } from '../sim/random';
import { regionLatency } from '../sim/region-latency';
import { VirtualClock } from '../sim/virtual-clock';
import { MemoryNetwork, type MemoryTransport } from './memory-network';
import type { Endpoint } from './transport';

interface Received {
  bytes: number[];
  from: Endpoint;
  at: number;
}

async function node(
  network: MemoryNetwork,
  clock: VirtualClock,
  endpoint: Endpoint,
): Promise<{ transport: MemoryTransport; inbox: Received[] }> {
  const transport = network.createTransport(endpoint);
  const inbox: Received[] = [];
  transport.onPacket((packet, from) => inbox.push({ bytes: [...packet], from, at: clock.now() }));
  await transport.listen();
  return { transport, inbox };
}

const A = { host: '10.0.0.1', port: 4000 };
const B = { host: '10.0.0.2', port: 4000 };
const C = { host: '10.0.1.3', port: 4000 };

describe('MemoryNetwork', () => {
  it('delivers a packet after the modelled latency, from the sender endpoint', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock, latencyMs: () => 25 });
    const a = await node(network, clock, A);
    const b = await node(network, clock, B);
    a.transport.send(new Uint8Array([1, 2, 3]), B);
    await clock.advance(24);
    expect(b.inbox).toEqual([]);
    await clock.advance(1);
    expect(b.inbox).toEqual([{ bytes: [1, 2, 3], from: A, at: 25 }]);
    expect(network.stats()).toMatchObject({ sent: 1, delivered: 1, inFlight: 0 });
    expect(a.transport.stats()).toMatchObject({ packetsOut: 1, bytesOut: 3 });
    expect(b.transport.stats()).toMatchObject({ packetsIn: 1, bytesIn: 3 });
  });

  it('uses per-pair latency from a region matrix', async () => {
    const clock = new VirtualClock();
    const latencyMs = regionLatency({
      regionOf: (e) => (e.host.startsWith('10.0.0.') ? 'eu' : 'us'),
      matrixMs: { eu: { eu: 5, us: 40 }, us: { us: 5 } },
    });
    const network = new MemoryNetwork({ clock, latencyMs });
    const a = await node(network, clock, A);
    const b = await node(network, clock, B);
    const c = await node(network, clock, C);
    a.transport.send(new Uint8Array([1]), B);
    a.transport.send(new Uint8Array([2]), C);
    await clock.advance(100);
    expect(b.inbox.map((r) => r.at)).toEqual([5]);
    expect(c.inbox.map((r) => r.at)).toEqual([40]);
  });

  it('copies the packet at send, so the sender may reuse its buffer at once', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock });
    const a = await node(network, clock, A);
    const b = await node(network, clock, B);
    const buffer = new Uint8Array([7, 7]);
    a.transport.send(buffer, B);
    buffer.fill(0);
    await clock.advance(1_000);
    expect(b.inbox[0].bytes).toEqual([7, 7]);
  });

  it('loses about lossRate of the packets, identically for the same seed', async () => {
    const run = async (): Promise<{ lost: number; delivered: number }> => {
      const clock = new VirtualClock();
      const network = new MemoryNetwork({ clock, lossRate: 0.3, random: createRandom(99) });
      const a = await node(network, clock, A);
      const b = await node(network, clock, B);
      for (let i = 0; i < 10_000; i++) a.transport.send(new Uint8Array([i & 255]), B);
      await clock.advance(1_000);
      expect(b.inbox.length).toBe(network.stats().delivered);
      return network.stats();
    };
    const first = await run();
    // Binomial(10000, 0.3): standard deviation about 46; 300 is over six deviations.
    expect(Math.abs(first.lost - 3_000)).toBeLessThan(300);
    expect(first.lost + first.delivered).toBe(10_000);
    expect(await run()).toEqual(first);
  });

  it('can change the loss rate and rejects rates outside 0..1', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock });
    const a = await node(network, clock, A);
    const b = await node(network, clock, B);
    network.setLossRate(1);
    a.transport.send(new Uint8Array([1]), B);
    network.setLossRate(0);
    a.transport.send(new Uint8Array([2]), B);
    await clock.advance(1_000);
    expect(b.inbox.map((r) => r.bytes[0])).toEqual([2]);
    expect(() => network.setLossRate(1.5)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => network.setLossRate(Number.NaN)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('partitions two host groups both ways, drops packets in flight, and heals', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock, latencyMs: () => 10 });
    const a = await node(network, clock, A);
    const b = await node(network, clock, B);
    const c = await node(network, clock, C);
    a.transport.send(new Uint8Array([1]), C); // in flight when the partition starts
    network.partition([A.host, B.host], [C.host]);
    c.transport.send(new Uint8Array([2]), A);
    a.transport.send(new Uint8Array([3]), B); // same side: unaffected
    await clock.advance(100);
    expect(c.inbox).toEqual([]);
    expect(a.inbox).toEqual([]);
    expect(b.inbox.map((r) => r.bytes[0])).toEqual([3]);
    expect(network.stats()).toMatchObject({ blocked: 2, delivered: 1 });

    network.heal();
    c.transport.send(new Uint8Array([4]), A);
    await clock.advance(100);
    expect(a.inbox.map((r) => r.bytes[0])).toEqual([4]);
  });

  it('kill drops everything to and from an endpoint until it is revived', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock, latencyMs: () => 10 });
    const a = await node(network, clock, A);
    const b = await node(network, clock, B);
    const c = await node(network, clock, C);
    a.transport.send(new Uint8Array([1]), B); // in flight when B dies
    network.kill(B);
    b.transport.send(new Uint8Array([2]), A);
    a.transport.send(new Uint8Array([3]), C);
    await clock.advance(100);
    expect(b.inbox).toEqual([]);
    expect(a.inbox).toEqual([]);
    expect(c.inbox.map((r) => r.bytes[0])).toEqual([3]);

    network.revive(B);
    a.transport.send(new Uint8Array([4]), B);
    await clock.advance(100);
    expect(b.inbox.map((r) => r.bytes[0])).toEqual([4]);
    expect(network.stats()).toMatchObject({ sent: 4, delivered: 2, blocked: 2 });
  });

  it('refuses a second transport on a bound endpoint, also when written differently', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock });
    await network.createTransport({ host: '2001:db8::1', port: 9 }).listen();
    const duplicate = network.createTransport({ host: '2001:DB8:0::1', port: 9 });
    const err = await duplicate.listen().catch((e: unknown) => e);
    expect(isKademliaError(err, 'TRANSPORT_BIND_FAILED')).toBe(true);
    await expect(
      network.createTransport({ host: '2001:db8::1', port: 10 }).listen(),
    ).resolves.toBeUndefined();
    expect(network.size()).toBe(2);
  });

  it('rejects endpoints that are not an IP literal and a port', () => {
    const network = new MemoryNetwork({ clock: new VirtualClock() });
    for (const endpoint of [
      { host: 'example.com', port: 1 },
      { host: '10.0.0.1', port: 0 },
      { host: '10.0.0.1', port: 70_000 },
      { host: 'fe80::1%eth0', port: 1 },
    ]) {
      expect(() => network.createTransport(endpoint)).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    }
  });

  it('delivers to an IPv4 endpoint addressed as IPv4-mapped IPv6', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock });
    const a = await node(network, clock, A);
    const b = await node(network, clock, B);
    a.transport.send(new Uint8Array([5]), { host: `::ffff:${B.host}`, port: B.port });
    await clock.advance(1_000);
    expect(b.inbox.map((r) => r.bytes[0])).toEqual([5]);
  });

  it('counts packets to unbound endpoints as undeliverable, including a receiver that closed meanwhile', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock, latencyMs: () => 10 });
    const a = await node(network, clock, A);
    const b = await node(network, clock, B);
    a.transport.send(new Uint8Array([1]), C);
    a.transport.send(new Uint8Array([1]), { host: 'not an ip', port: 1 });
    a.transport.send(new Uint8Array([2]), B);
    await b.transport.close();
    await clock.advance(100);
    expect(b.inbox).toEqual([]);
    expect(network.stats()).toMatchObject({ sent: 3, undeliverable: 3, delivered: 0, inFlight: 0 });
  });

  it('counts a throwing handler and keeps delivering', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock });
    const a = await node(network, clock, A);
    const b = network.createTransport(B);
    let calls = 0;
    b.onPacket(() => {
      calls++;
      throw new Error('handler bug');
    });
    await b.listen();
    a.transport.send(new Uint8Array([1]), B);
    a.transport.send(new Uint8Array([2]), B);
    await clock.advance(1_000);
    expect(calls).toBe(2);
    expect(b.stats().handlerErrors).toBe(2);
    expect(network.stats()).toMatchObject({ delivered: 2, handlerErrors: 2 });
  });

  it('refuses oversize packets at the sender and counts sends before listen and after close', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock, maxPacketBytes: 100 });
    const idle = network.createTransport(A);
    idle.send(new Uint8Array([1]), B);
    const b = await node(network, clock, B);
    const c = await node(network, clock, C);
    b.transport.send(new Uint8Array(101), C);
    b.transport.send(new Uint8Array(100), C);
    await b.transport.close();
    await b.transport.close(); // idempotent
    expect(() => b.transport.send(new Uint8Array([1]), C)).not.toThrow();
    await clock.advance(1_000);
    expect(c.inbox.map((r) => r.bytes.length)).toEqual([100]);
    expect(idle.stats().sendErrors).toBe(1);
    expect(b.transport.stats()).toMatchObject({ oversizeRefused: 1, sendErrors: 1, packetsOut: 1 });
    expect(network.stats().sent).toBe(1);
  });

  it('frees the endpoint on close and refuses to listen again', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock });
    const first = await node(network, clock, A);
    await first.transport.close();
    expect(network.transportAt(A)).toBeUndefined();
    const relisten = await first.transport.listen().catch((e: unknown) => e);
    expect(isKademliaError(relisten, 'TRANSPORT_CLOSED')).toBe(true);
    const second = await node(network, clock, A);
    expect(network.transportAt(A)).toBe(second.transport);
    expect(second.transport.address()).toEqual(A);
    expect(second.transport.addresses()).toEqual([A]);
  });

  it('runs a request/response exchange between many nodes under the virtual clock', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock, latencyMs: (from, to) => 1 + ((from.port + to.port) % 7) });
    const transports: MemoryTransport[] = [];
    let replies = 0;
    for (let i = 0; i < 200; i++) {
      const transport = network.createTransport({ host: '10.1.0.1', port: 1_000 + i });
      // Echo requests (first byte 0) back as replies (first byte 1).
      transport.onPacket((packet, from) => {
        if (packet[0] === 0) transport.send(new Uint8Array([1]), from);
        else replies++;
      });
      await transport.listen();
      transports.push(transport);
    }
    for (let i = 0; i < 200; i++) {
      for (let j = 1; j <= 10; j++)
        transports[i].send(new Uint8Array([0]), transports[(i + j) % 200].address());
    }
    await clock.runUntil(() => replies === 2_000, { maxTimeMs: 1_000 });
    expect(replies).toBe(2_000);
    expect(network.stats()).toMatchObject({ sent: 4_000, delivered: 4_000, inFlight: 0 });
  });
});
