import { generateIdentity, type Identity } from '../id/identity';
import { idToHex } from '../id/node-id';
import { LinkedTransport } from '../transport/test/linked-transport';
import { PLAIN_HEADER_BYTES, PlaintextSessionLayer } from './plaintext-session';
import type { InboundPayload, SessionDropReason } from './session-layer';

interface Side {
  transport: LinkedTransport;
  identity: Identity;
  layer: PlaintextSessionLayer;
  received: InboundPayload[];
  drops: SessionDropReason[];
}

function side(
  transport: LinkedTransport,
  options: { clientMode?: boolean; maxPacketBytes?: number } = {},
): Side {
  const identity = generateIdentity();
  const layer = new PlaintextSessionLayer({ transport, identity, ...options });
  const s: Side = { transport, identity, layer, received: [], drops: [] };
  layer.onPayload((inbound) => s.received.push(inbound));
  layer.onDrop((reason) => s.drops.push(reason));
  return s;
}

function connected(options: { aClientMode?: boolean } = {}): [Side, Side] {
  const [ta, tb] = LinkedTransport.pair(
    { host: '10.0.0.1', port: 1001 },
    { host: '2001:db8::2', port: 1002 },
  );
  return [side(ta, { clientMode: options.aClientMode }), side(tb)];
}

const payload = new Uint8Array([0x82, 0x01, 0x01]);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('PlaintextSessionLayer', () => {
  it('delivers a payload with the sender address, key and derived node ID', () => {
    const [a, b] = connected();
    a.layer.send({ endpoint: b.transport.address() }, payload);
    expect(b.received).toHaveLength(1);
    const inbound = b.received[0];
    expect(inbound.from).toEqual(a.transport.address());
    expect(hex(inbound.publicKey)).toBe(hex(a.identity.publicKey));
    expect(idToHex(inbound.nodeId)).toBe(idToHex(a.identity.nodeId));
    expect(inbound.clientMode).toBe(false);
    expect(hex(inbound.payload)).toBe(hex(payload));
    expect(b.drops).toEqual([]);
  });

  it('writes magic, version, PLAIN type, flags and the sender key before the payload', () => {
    const [a, b] = connected({ aClientMode: true });
    a.layer.send({ endpoint: b.transport.address() }, payload);
    expect(hex(a.transport.sent[0])).toBe('4b44011001' + hex(a.identity.publicKey) + hex(payload));
    expect(b.received[0].clientMode).toBe(true);
  });

  it('leaves room for the 37-byte header in maxPayloadBytes, and refuses larger payloads', () => {
    const [a, b] = connected();
    expect(a.layer.maxPayloadBytes).toBe(1232 - PLAIN_HEADER_BYTES);
    a.layer.send({ endpoint: b.transport.address() }, new Uint8Array(a.layer.maxPayloadBytes));
    expect(a.transport.sent[0].length).toBe(1232);
    expect(() =>
      a.layer.send({ endpoint: b.transport.address() }, new Uint8Array(a.layer.maxPayloadBytes + 1)),
    ).toThrow(expect.objectContaining({ code: 'WIRE_TOO_LARGE' }));
  });

  it('copies the sender key out of the packet, so reusing the packet buffer cannot change it', () => {
    const [a, b] = connected();
    const packet = Buffer.from('4b44011000' + hex(a.identity.publicKey) + '820101', 'hex');
    b.transport.deliver(packet, a.transport.address());
    packet.fill(0);
    expect(hex(b.received[0].publicKey)).toBe(hex(a.identity.publicKey));
  });

  describe('drops, without throwing into the transport', () => {
    const key = 'aa'.repeat(32);
    const cases: Array<[string, string, SessionDropReason]> = [
      ['an empty datagram', '', 'too_short'],
      ['a bare header', '4b44', 'too_short'],
      ['a packet with no payload', '4b44011000' + key, 'too_short'],
      ['a packet cut inside the key', '4b44011000' + 'aa'.repeat(31), 'too_short'],
      ['a wrong magic', '4b45011000' + key + '00', 'bad_magic'],
      ['another protocol version', '4b44021000' + key + '00', 'bad_version'],
      ['an encrypted-layer packet type', '4b44010300' + key + '00', 'unknown_packet_type'],
      ['unknown flag bits', '4b44011002' + key + '00', 'bad_flags'],
      ['an all-zero sender key', '4b44011000' + '00'.repeat(32) + '00', 'bad_sender_key'],
      ['a packet over the size limit', '4b44011000' + key + '00'.repeat(1232 - 37 + 1), 'too_large'],
    ];
    it.each(cases)('%s', (_name, packetHex, reason) => {
      const [, b] = connected();
      expect(() =>
        b.transport.deliver(Buffer.from(packetHex, 'hex'), { host: '192.0.2.1', port: 9 }),
      ).not.toThrow();
      expect(b.drops).toEqual([reason]);
      expect(b.received).toEqual([]);
    });

    it('a packet carrying our own key (a reflection or a loop)', () => {
      const [a, b] = connected();
      b.transport.deliver(
        Buffer.from('4b44011000' + hex(b.identity.publicKey) + '00', 'hex'),
        a.transport.address(),
      );
      expect(b.drops).toEqual(['own_packet']);
    });

    it('a payload whose handler throws, counted as handler_error while later packets still flow', () => {
      const [a, b] = connected();
      let calls = 0;
      b.layer.onPayload(() => {
        calls++;
        if (calls === 1) throw new Error('handler bug');
      });
      expect(() => a.layer.send({ endpoint: b.transport.address() }, payload)).not.toThrow();
      a.layer.send({ endpoint: b.transport.address() }, payload);
      expect(b.drops).toEqual(['handler_error']);
      expect(calls).toBe(2);
    });

    it('a throwing drop handler is contained too', () => {
      const [, b] = connected();
      b.layer.onDrop(() => {
        throw new Error('metrics bug');
      });
      expect(() => b.transport.deliver(new Uint8Array(3), { host: '192.0.2.1', port: 9 })).not.toThrow();
    });
  });

  it('neither sends nor delivers after close()', () => {
    const [a, b] = connected();
    b.layer.close();
    a.layer.send({ endpoint: b.transport.address() }, payload);
    expect(b.received).toEqual([]);
    a.layer.close();
    a.layer.send({ endpoint: b.transport.address() }, payload);
    expect(a.transport.sent).toHaveLength(1);
  });

  it('honours a smaller maxPacketBytes and refuses one that leaves no room for a payload', () => {
    const [ta, tb] = LinkedTransport.pair(
      { host: '10.0.0.1', port: 1001 },
      { host: '2001:db8::2', port: 1002 },
    );
    const small = side(ta, { maxPacketBytes: 100 });
    side(tb);
    expect(small.layer.maxPayloadBytes).toBe(100 - PLAIN_HEADER_BYTES);
    small.transport.deliver(new Uint8Array(101), tb.address());
    expect(small.drops).toEqual(['too_large']);
    expect(
      () => new PlaintextSessionLayer({ transport: ta, identity: small.identity, maxPacketBytes: 37 }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
