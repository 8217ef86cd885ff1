import { createSocket, type Socket } from 'node:dgram';
import { isKademliaError } from '../errors';
import type { Endpoint } from './transport';
import { UdpTransport, type UdpTransportOptions } from './udp-transport';

interface Inbox {
  packets: Array<{ bytes: number[]; from: Endpoint }>;
}

const open: UdpTransport[] = [];

/** A listening transport whose received packets land in the returned inbox. */
async function start(options: UdpTransportOptions): Promise<{ transport: UdpTransport; inbox: Inbox }> {
  const transport = new UdpTransport(options);
  const inbox: Inbox = { packets: [] };
  transport.onPacket((packet, from) => inbox.packets.push({ bytes: [...packet], from }));
  open.push(transport);
  await transport.listen();
  return { transport, inbox };
}

/** Polls until `condition` holds; the bound only turns a lost packet into a clear failure, it asserts no speed. */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function bindRaw(type: 'udp4' | 'udp6', address: string, port = 0): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(type === 'udp6' ? { type, ipv6Only: true } : { type });
    socket.once('error', reject);
    socket.bind(port, address, () => resolve(socket));
  });
}

function closeRaw(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

/** Whether this machine can bind ::1, and why not. */
async function probeIpv6Loopback(): Promise<{ available: boolean; reason: string }> {
  try {
    await closeRaw(await bindRaw('udp6', '::1'));
    return { available: true, reason: '' };
  } catch (err) {
    return { available: false, reason: (err as { code?: string }).code ?? String(err) };
  }
}

let ipv6: { available: boolean; reason: string };

beforeAll(async () => {
  ipv6 = await probeIpv6Loopback();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((transport) => transport.close()));
});

describe('UdpTransport', () => {
  it('exchanges packets between two loopback addresses with OS-picked ports', async () => {
    const a = await start({ bindAddress: '127.0.0.2', port: 0 });
    const b = await start({ bindAddress: '127.0.0.3', port: 0 });
    const addrA = a.transport.address();
    const addrB = b.transport.address();
    expect(addrA.host).toBe('127.0.0.2');
    expect(addrA.port).toBeGreaterThan(0);
    expect(a.transport.addresses()).toEqual([addrA]); // a specific IPv4 address binds udp4 only

    a.transport.send(new Uint8Array([1, 2, 3]), addrB);
    await waitFor(() => b.inbox.packets.length === 1, 'a -> b');
    expect(b.inbox.packets[0]).toEqual({ bytes: [1, 2, 3], from: addrA });

    b.transport.send(new Uint8Array([4]), b.inbox.packets[0].from);
    await waitFor(() => a.inbox.packets.length === 1, 'b -> a');
    expect(a.inbox.packets[0]).toEqual({ bytes: [4], from: addrB });
    expect(a.transport.stats()).toMatchObject({
      packetsOut: 1,
      bytesOut: 3,
      packetsIn: 1,
      bytesIn: 1,
      sendErrors: 0,
    });
  });

  it('sends to an IPv4-mapped IPv6 address over udp4 and reports plain IPv4 senders', async () => {
    const a = await start({ bindAddress: '127.0.0.2', port: 0 });
    const b = await start({ bindAddress: '127.0.0.3', port: 0 });
    a.transport.send(new Uint8Array([9]), { host: '::ffff:127.0.0.3', port: b.transport.address().port });
    await waitFor(() => b.inbox.packets.length === 1, 'mapped send');
    expect(b.inbox.packets[0].from).toEqual(a.transport.address());
  });

  it('binds both families on one port by default, and IPv6 reaches ::1 when the machine has it', async () => {
    const dual = await start({ port: 0 });
    const addresses = dual.transport.addresses();
    const v4 = await start({ bindAddress: '127.0.0.2', port: 0 });
    dual.transport.send(new Uint8Array([4]), v4.transport.address());
    await waitFor(() => v4.inbox.packets.length === 1, 'dual-stack -> IPv4');
    // The source is whichever loopback address the kernel picks for a wildcard socket (127.0.0.1 on Linux).
    expect(v4.inbox.packets[0].from.host).toMatch(/^127\./);
    expect(v4.inbox.packets[0].from.port).toBe(addresses[0].port);

    if (!ipv6.available) {
      // Not a silent pass: say why IPv6 was not exercised, and pin the IPv4-only fallback instead.
      console.warn(`IPv6 not exercised: binding ::1 failed with ${ipv6.reason}`);
      expect(addresses).toEqual([{ host: '0.0.0.0', port: addresses[0].port }]);
      expect(dual.transport.ipv6FallbackReason()).toBeDefined();
      const err = await new UdpTransport({ bindAddress: '::1', port: 0 }).listen().catch((e: unknown) => e);
      expect(isKademliaError(err, 'TRANSPORT_BIND_FAILED')).toBe(true);
      return;
    }
    expect(addresses).toEqual([
      { host: '0.0.0.0', port: addresses[0].port },
      { host: '::', port: addresses[0].port },
    ]);
    const v6 = await start({ bindAddress: '::1', port: 0 });
    expect(v6.transport.addresses()).toEqual([{ host: '::1', port: v6.transport.address().port }]);
    dual.transport.send(new Uint8Array([6]), v6.transport.address());
    await waitFor(() => v6.inbox.packets.length === 1, 'dual-stack -> ::1');
    expect(v6.inbox.packets[0]).toEqual({ bytes: [6], from: { host: '::1', port: addresses[0].port } });

    // An IPv6-only transport cannot reach IPv4 and says so in its counters instead of throwing.
    v6.transport.send(new Uint8Array([1]), v4.transport.address());
    expect(v6.transport.stats().sendErrorsByReason).toEqual({ 'no-socket': 1 });
  });

  it('fails with TRANSPORT_BIND_FAILED when the second family cannot have the fixed port, leaving nothing bound', async () => {
    if (!ipv6.available) {
      console.warn(
        `IPv6 not exercised: binding ::1 failed with ${ipv6.reason}; checking an IPv4 conflict instead`,
      );
      const first = await start({ bindAddress: '127.0.0.2', port: 0 });
      const clash = new UdpTransport({ bindAddress: '127.0.0.2', port: first.transport.address().port });
      const err = await clash.listen().catch((e: unknown) => e);
      expect(isKademliaError(err, 'TRANSPORT_BIND_FAILED')).toBe(true);
      return;
    }
    const squatter = await bindRaw('udp6', '::');
    const port = squatter.address().port;
    try {
      const transport = new UdpTransport({ port });
      const err = await transport.listen().catch((e: unknown) => e);
      expect(isKademliaError(err, 'TRANSPORT_BIND_FAILED')).toBe(true);
      expect((err as { details: Record<string, unknown> }).details).toMatchObject({
        family: 6,
        port,
        cause: 'EADDRINUSE',
      });
      // The udp4 socket it had bound first was released.
      await closeRaw(await bindRaw('udp4', '0.0.0.0', port));
    } finally {
      await closeRaw(squatter);
    }
  });

  it('refuses oversize packets on send and drops them on receipt', async () => {
    const small = await start({ bindAddress: '127.0.0.2', port: 0, maxPacketBytes: 100 });
    const big = await start({ bindAddress: '127.0.0.3', port: 0 });
    small.transport.send(new Uint8Array(101), big.transport.address());
    expect(small.transport.stats()).toMatchObject({ oversizeRefused: 1, packetsOut: 0 });

    big.transport.send(new Uint8Array(200), small.transport.address());
    big.transport.send(new Uint8Array(100), small.transport.address());
    await waitFor(() => small.inbox.packets.length === 1, 'the fitting packet');
    await waitFor(() => small.transport.stats().oversizeDropped === 1, 'the oversize drop');
    expect(small.inbox.packets[0].bytes.length).toBe(100);
  });

  it('counts failed sends by reason and never throws', async () => {
    const { transport } = await start({ bindAddress: '127.0.0.2', port: 0 });
    const packet = new Uint8Array([1]);
    expect(() => {
      transport.send(packet, { host: '255.255.255.255', port: 9 }); // EACCES: broadcast is not enabled
      transport.send(packet, { host: '2001:db8::1', port: 9 }); // no udp6 socket
      transport.send(packet, { host: 'example.com', port: 9 }); // never resolved
      transport.send(packet, { host: '127.0.0.3', port: 0 }); // dgram rejects port 0
      transport.send(packet, { host: '127.0.0.3', port: 70_000 });
    }).not.toThrow();
    await waitFor(() => transport.stats().sendErrors === 5, 'the asynchronous send error');
    expect(transport.stats().sendErrorsByReason).toEqual({
      'os-error': 1,
      'no-socket': 1,
      'invalid-address': 1,
      rejected: 2,
    });
  });

  it('keeps receiving after a handler throws, and counts it', async () => {
    const a = await start({ bindAddress: '127.0.0.2', port: 0 });
    const b = new UdpTransport({ bindAddress: '127.0.0.3', port: 0 });
    open.push(b);
    const seen: number[] = [];
    b.onPacket((packet) => {
      seen.push(packet[0]);
      if (packet[0] === 1) throw new Error('handler bug');
    });
    await b.listen();
    a.transport.send(new Uint8Array([1]), b.address());
    await waitFor(() => seen.length === 1, 'first packet');
    a.transport.send(new Uint8Array([2]), b.address());
    await waitFor(() => seen.length === 2, 'second packet');
    expect(seen).toEqual([1, 2]);
    expect(b.stats().handlerErrors).toBe(1);
  });

  it('closes idempotently; afterwards send is counted, listen and address refuse', async () => {
    const { transport } = await start({ bindAddress: '127.0.0.2', port: 0 });
    const port = transport.address().port;
    await Promise.all([transport.close(), transport.close()]);
    await transport.close();
    expect(() => transport.send(new Uint8Array([1]), { host: '127.0.0.3', port: 9 })).not.toThrow();
    expect(transport.stats().sendErrorsByReason).toEqual({ 'not-listening': 1 });
    expect(transport.addresses()).toEqual([]);
    expect(() => transport.address()).toThrow(expect.objectContaining({ code: 'NOT_STARTED' }));
    const err = await transport.listen().catch((e: unknown) => e);
    expect(isKademliaError(err, 'TRANSPORT_CLOSED')).toBe(true);
    // The port is free again.
    await closeRaw(await bindRaw('udp4', '127.0.0.2', port));
  });

  it('refuses a second listen and reports close during binding to listen', async () => {
    const { transport } = await start({ bindAddress: '127.0.0.2', port: 0 });
    const again = await transport.listen().catch((e: unknown) => e);
    expect(isKademliaError(again, 'ALREADY_STARTED')).toBe(true);

    const racing = new UdpTransport({ bindAddress: '127.0.0.2', port: 0 });
    const listening = racing.listen().catch((e: unknown) => e);
    await racing.close();
    expect(isKademliaError(await listening, 'TRANSPORT_CLOSED')).toBe(true);
    expect(racing.addresses()).toEqual([]);
  });

  it('rejects invalid options with CONFIG_INVALID', () => {
    const invalid: UdpTransportOptions[] = [
      { bindAddress: 'localhost' },
      { bindAddress6: '127.0.0.1' },
      { bindAddress: '::1', bindAddress6: '::' },
      { port: -1 },
      { port: 65_536 },
      { maxPacketBytes: 0 },
      { maxPacketBytes: 70_000 },
      { receiveBufferBytes: 1.5 },
    ];
    for (const options of invalid) {
      expect(() => new UdpTransport(options)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
  });
});
