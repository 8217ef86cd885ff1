import { MemoryNetwork, VirtualClock, type Endpoint } from '../../libs/kademlia/src';
import { LazyTransport } from './lazy-transport';

describe('LazyTransport', () => {
  const setup = () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock, latencyMs: () => 1 });
    const built: string[] = [];
    const make = (host: string) =>
      new LazyTransport(network.createTransport({ host, port: 1 }), (to) => built.push(to.host));
    return { clock, network, built, make };
  };

  it('lets the network build the receiver before each packet leaves', async () => {
    const { make, built } = setup();
    const a = make('127.0.0.1');
    await a.listen();
    a.send(new Uint8Array([1]), { host: '127.0.0.2', port: 1 });
    expect(built).toEqual(['127.0.0.2']);
  });

  it('holds packets until open(), then hands them over in order', async () => {
    const { clock, make } = setup();
    const a = make('127.0.0.1');
    const b = make('127.0.0.2');
    await a.listen();
    await b.listen();
    const got: Array<[number, Endpoint]> = [];
    b.onPacket((packet, from) => got.push([packet[0], from]));
    a.send(new Uint8Array([1]), b.address());
    a.send(new Uint8Array([2]), b.address());
    await clock.advance(10);
    expect(got).toEqual([]);
    b.open();
    expect(got.map(([value]) => value)).toEqual([1, 2]);
    a.send(new Uint8Array([3]), b.address());
    await clock.advance(10);
    expect(got.map(([value]) => value)).toEqual([1, 2, 3]);
    expect(got[0][1]).toEqual(a.address());
  });

  it('drops and counts what arrives beyond its bound while the node is being built', async () => {
    const { clock, make } = setup();
    const a = make('127.0.0.1');
    const b = make('127.0.0.2');
    await a.listen();
    await b.listen();
    let delivered = 0;
    b.onPacket(() => delivered++);
    for (let i = 0; i < 100; i++) a.send(new Uint8Array([i]), b.address());
    await clock.advance(10);
    b.open();
    expect(delivered).toBe(64);
    expect(b.droppedWhileBuilding).toBe(36);
  });
});
