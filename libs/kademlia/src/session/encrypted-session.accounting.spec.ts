import { generateIdentity, type Identity } from '../id/identity';
import { createRandom } from '../sim/random';
import { VirtualClock } from '../sim/virtual-clock';
import { MemoryNetwork, type MemoryTransport } from '../transport/memory-network';
import type { Endpoint, PacketHandler } from '../transport/transport';
import { EncryptedPacketType as T } from './encrypted-packets';
import {
  EncryptedSessionLayer,
  type EncryptedSessionOptions,
  type EncryptedSessionStats,
} from './encrypted-session';
import { writePacketHeader } from './packet-header';
import { bytes } from './test/encrypted-harness';

const A = { host: '10.0.0.1', port: 4001 };
const B = { host: '10.0.0.2', port: 4002 };
const C = { host: '2001:db8::3', port: 4003 };
const STRANGER = { host: '10.9.9.9', port: 9999 };

type LayerOptions = Omit<EncryptedSessionOptions, 'transport' | 'identity' | 'clock'>;

/** One node: its transport, the layers it ran (a restart adds one) and what its handler saw. */
interface Node {
  readonly endpoint: Endpoint;
  readonly identity: Identity;
  readonly transport: MemoryTransport;
  readonly layers: EncryptedSessionLayer[];
  /** Handler calls that returned normally. */
  accepted: number;
  drops: number;
}

/**
 * Three encrypted layers on a MemoryNetwork. Every packet a transport hands to a layer is checked on its own:
 * exactly one of payloadPackets / controlPackets / droppedPackets moves, a payload packet is exactly one
 * handler call that returned, a dropped one reported at least one drop. Violations are collected rather than
 * thrown, because the transport would swallow an exception raised inside its handler.
 */
class Fleet {
  readonly clock = new VirtualClock();
  readonly network = new MemoryNetwork({ clock: this.clock, latencyMs: () => 10 });
  /** Every packet sent, with its addresses: the raw material for replays and mutations. */
  readonly wire: { from: Endpoint; to: Endpoint; bytes: Uint8Array }[] = [];
  readonly violations: string[] = [];
  readonly fates = { payload: 0, control: 0, dropped: 0 };

  async node(endpoint: Endpoint, options: LayerOptions = {}): Promise<Node> {
    const transport = this.network.createTransport(endpoint);
    const send = transport.send.bind(transport);
    transport.send = (packet, to) => {
      this.wire.push({ from: transport.endpoint, to, bytes: new Uint8Array(packet) });
      send(packet, to);
    };
    const node: Node = {
      endpoint: transport.endpoint,
      identity: generateIdentity(),
      transport,
      layers: [],
      accepted: 0,
      drops: 0,
    };
    const register = transport.onPacket.bind(transport);
    transport.onPacket = (handler) => register(this.checked(node, handler));
    this.attach(node, options);
    await transport.listen();
    return node;
  }

  /** The process restarted: a new layer on the same transport, every session forgotten. */
  restart(node: Node, options: LayerOptions = {}): void {
    this.layer(node).close();
    this.attach(node, options);
  }

  layer(node: Node): EncryptedSessionLayer {
    return node.layers[node.layers.length - 1];
  }

  send(from: Node, to: Node, text: string, pinned = true): void {
    const publicKey = pinned ? to.identity.publicKey : undefined;
    this.layer(from).send({ endpoint: to.endpoint, publicKey }, bytes(text));
  }

  async settle(ms = 200): Promise<void> {
    await this.clock.advance(ms);
  }

  private attach(node: Node, options: LayerOptions): void {
    const layer = new EncryptedSessionLayer({
      transport: node.transport,
      identity: node.identity,
      clock: this.clock,
      ...options,
    });
    layer.onPayload((inbound) => {
      const text = Buffer.from(inbound.payload).toString('latin1');
      if (text.startsWith('throw')) throw new Error('handler bug');
      const to = { endpoint: inbound.from, publicKey: inbound.publicKey };
      // Replies as RPC does, synchronously; 'big' asks for more than an unvalidated address may receive.
      if (text.startsWith('big')) for (let i = 0; i < 4; i++) layer.send(to, new Uint8Array(900).fill(i));
      else if (!text.startsWith('re:')) layer.send(to, bytes(`re:${text}`));
      node.accepted++;
    });
    layer.onDrop(() => node.drops++);
    node.layers.push(layer);
  }

  private checked(node: Node, handler: PacketHandler): PacketHandler {
    return (packet, from) => {
      const layer = this.layer(node);
      const before = layer.stats();
      const accepted = node.accepted;
      const drops = node.drops;
      handler(packet, from);
      const after = layer.stats();
      const moved = (key: keyof EncryptedSessionStats) => after[key] - before[key];
      const fate = `type ${packet[3]} of ${packet.length} bytes`;
      if (moved('packetsReceived') !== 1) this.violations.push(`${fate}: not received once`);
      const payload = moved('payloadPackets');
      const control = moved('controlPackets');
      const dropped = moved('droppedPackets');
      if (payload + control + dropped !== 1)
        this.violations.push(`${fate}: ${payload}/${control}/${dropped}`);
      if (node.accepted - accepted !== payload) this.violations.push(`${fate}: handler calls ≠ payload`);
      if (dropped === 1 && node.drops === drops) this.violations.push(`${fate}: dropped without a reason`);
      this.fates.payload += payload;
      this.fates.control += control;
      this.fates.dropped += dropped;
    };
  }
}

function sum(node: Node, key: keyof EncryptedSessionStats): number {
  return node.layers.reduce((total, layer) => total + layer.stats()[key], 0);
}

/** packetsReceived of every layer the node ran, against what its transport received and the three fates. */
function expectExactAccounting(node: Node): void {
  const received = sum(node, 'packetsReceived');
  expect(received).toBe(node.transport.stats().packetsIn);
  expect(received).toBe(
    sum(node, 'payloadPackets') + sum(node, 'controlPackets') + sum(node, 'droppedPackets'),
  );
  expect(sum(node, 'payloadPackets')).toBe(node.accepted);
}

/** Real traffic: handshakes, cookies, key discovery, deferred replies, a throwing handler, rekeys, a restart. */
async function realTraffic(fleet: Fleet): Promise<Node[]> {
  const a = await fleet.node(A, { rekeyAfterMessages: 4 });
  const b = await fleet.node(B);
  const c = await fleet.node(C, { cookieMode: 'always' });
  fleet.send(a, b, 'big'); // the INIT asks for 3.6 kB: b defers, asks a to confirm with an empty DATA
  fleet.send(a, c, 'hello c');
  fleet.send(c, a, 'who are you', false);
  await fleet.settle();
  fleet.send(a, b, 'throw now');
  await fleet.settle();
  for (let i = 0; i < 10; i++) {
    fleet.send(a, b, `a->b ${i}`);
    fleet.send(b, c, `b->c ${i}`);
    fleet.send(c, a, `c->a ${i}`);
    await fleet.settle(30);
  }
  fleet.restart(b);
  fleet.send(a, b, 'after restart'); // UNKNOWN_SESSION, then a new handshake carrying it
  fleet.send(c, b, 'after restart too');
  await fleet.settle();
  fleet.send(b, a, 'again', false);
  await fleet.settle();
  return [a, b, c];
}

describe('EncryptedSessionLayer inbound accounting', () => {
  it('gives every packet of real traffic exactly one fate, all kinds included', async () => {
    const fleet = new Fleet();
    const nodes = await realTraffic(fleet);
    expect(fleet.violations).toEqual([]);
    for (const node of nodes) expectExactAccounting(node);
    const [a, b, c] = nodes;
    expect(a.layers[0].stats()).toMatchObject({ rekeys: expect.any(Number), sessionsLost: 1 });
    expect(a.layers[0].stats().rekeys).toBeGreaterThan(0);
    expect(c.layers[0].stats().cookiesSent).toBeGreaterThan(0);
    expect(c.layers[0].stats().keyDiscoveries).toBe(1);
    expect(b.layers[0].stats().keyDiscoveries).toBe(0);
    expect(b.layers[0].stats().repliesDeferred).toBeGreaterThan(0);
    expect(new Set(fleet.wire.map((p) => p.bytes[3]))).toEqual(
      new Set([T.INIT, T.RESP, T.DATA, T.COOKIE, T.HELLO, T.KEY, T.UNKNOWN_SESSION]),
    );
    // HELLO, KEY, COOKIE, UNKNOWN_SESSION and the empty confirmation are control; 'throw now' a drop.
    expect(fleet.fates.control).toBeGreaterThan(0);
    expect(fleet.fates.dropped).toBeGreaterThan(0);
    expect(fleet.fates.payload).toBeGreaterThan(30);
  });

  it.each([1, 2, 3])(
    'stays exact under replayed, mutated, truncated and junk packets (seed %i)',
    async (seed) => {
      const fleet = new Fleet();
      const nodes = await realTraffic(fleet);
      const random = createRandom(seed);
      const pick = <V>(items: readonly V[]): V => items[Math.floor(random() * items.length)];
      const captured = [...fleet.wire];
      const nodeAt = (endpoint: Endpoint) => nodes.find((n) => n.endpoint.port === endpoint.port)!;
      for (let i = 0; i < 1500; i++) {
        const original = pick(captured);
        const target = nodeAt(original.to);
        const from = pick([original.from, original.from, STRANGER, pick(nodes).endpoint]);
        target.transport.receive(mutate(original.bytes, random), from);
        // Fresh junk too, some of it behind a valid header so it reaches each packet type's decoder.
        const junk = new Uint8Array(Math.floor(random() * 1400)).map(() => Math.floor(random() * 256));
        if (junk.length >= 4 && random() < 0.7) writePacketHeader(junk, 1 + Math.floor(random() * 8));
        pick(nodes).transport.receive(junk, pick([STRANGER, pick(nodes).endpoint]));
        if (i % 100 === 0) await fleet.settle(20); // answers to injected packets travel and are accounted too
      }
      // Past rejectAfterMs: replayed DATA now hits expired sessions.
      await fleet.clock.advance(13 * 60_000);
      for (const packet of captured.filter((p) => p.bytes[3] === T.DATA).slice(-20)) {
        nodeAt(packet.to).transport.receive(packet.bytes, packet.from);
      }
      await fleet.settle();
      expect(fleet.violations).toEqual([]);
      for (const node of nodes) expectExactAccounting(node);
      expect(fleet.fates.dropped).toBeGreaterThan(1500);
    },
  );
});

/** A replay, a truncation, bit flips, or extra bytes: each keeps or breaks the packet in its own way. */
function mutate(packet: Uint8Array, random: () => number): Uint8Array {
  const copy = new Uint8Array(packet);
  const kind = Math.floor(random() * 4);
  if (kind === 0) return copy;
  if (kind === 1) return copy.subarray(0, Math.floor(random() * packet.length));
  if (kind === 2) {
    const flips = 1 + Math.floor(random() * 3);
    for (let f = 0; f < flips; f++) copy[Math.floor(random() * copy.length)] ^= 1 << Math.floor(random() * 8);
    return copy;
  }
  const longer = new Uint8Array(packet.length + 1 + Math.floor(random() * 64));
  longer.set(packet);
  return longer;
}
