import fc from 'fast-check';
import { generateIdentity } from '../id/identity';
import { ipToBytes } from '../wire/ip-address';
import {
  COOKIE_PACKET_BYTES,
  encodeInit,
  initBodyLengthFor,
  initBodyPlaintext,
  EncryptedPacketType as T,
  UNKNOWN_SESSION_PACKET_BYTES,
} from './encrypted-packets';
import { InitiatorHandshake } from './handshake';
import {
  bytes,
  hex,
  packetType,
  SessionHarness,
  type TestPeer,
  type WirePacket,
} from './test/encrypted-harness';

const A = { host: '10.0.0.1', port: 4001 };
const B = { host: '10.0.0.2', port: 4002 };
const C = { host: '2001:db8::3', port: 4003 };

const text = (peer: TestPeer) => peer.received.map((r) => Buffer.from(r.payload).toString('latin1'));
const contains = (haystack: Uint8Array, needle: Uint8Array) =>
  Buffer.from(haystack).includes(Buffer.from(needle));
const sentBy = (wire: WirePacket[], from: { port: number }) => wire.filter((p) => p.from.port === from.port);
const total = (packets: WirePacket[]) => packets.reduce((sum, p) => sum + p.bytes.length, 0);

/** INIT packets made by throwaway identities on a network of their own: raw material for floods. */
async function foreignInits(targetKey: Uint8Array, count: number): Promise<Uint8Array[]> {
  const elsewhere = new SessionHarness();
  const inits: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const attacker = await elsewhere.peer({ host: '192.0.2.1', port: 1000 + i });
    attacker.layer.send({ endpoint: B, publicKey: targetKey }, bytes(`flood ${i}`));
  }
  for (const packet of elsewhere.wire) inits.push(packet.bytes);
  return inits;
}

describe('EncryptedSessionLayer on a hostile network', () => {
  it('shows a passive observer no node ID, static key, address or payload', async () => {
    const h = new SessionHarness();
    const peers = [
      await h.peer(A, { echo: true }),
      await h.peer(B, { echo: true }),
      await h.peer(C, { echo: true }),
    ];
    const secrets = ['SECRET-PAYLOAD-0001', 'SECRET-PAYLOAD-0002', 'SECRET-PAYLOAD-0003'];
    for (const from of peers) {
      for (const to of peers) {
        if (from === to) continue;
        for (const secret of secrets)
          from.layer.send({ endpoint: to.endpoint, publicKey: to.identity.publicKey }, bytes(secret));
      }
    }
    await h.settle();
    h.restart(peers[1], {});
    peers[0].layer.send({ endpoint: B, publicKey: peers[1].identity.publicKey }, bytes(secrets[0]));
    await h.settle();
    expect(peers[1].received.length).toBe(13);
    expect(new Set(h.wire.map(packetType))).toEqual(new Set([T.INIT, T.RESP, T.DATA, T.UNKNOWN_SESSION]));
    const forbidden: Uint8Array[] = secrets.map((s) => bytes(s.slice(0, 12)));
    for (const peer of peers) {
      forbidden.push(peer.identity.publicKey, peer.identity.nodeId, ipToBytes(peer.endpoint.host));
    }
    for (const packet of h.wire) {
      for (const needle of forbidden) expect(contains(packet.bytes, needle)).toBe(false);
    }
  });

  describe('DATA tampering', () => {
    /** Three DATA packets a→b captured while b was unreachable, plus the established pair. */
    async function capturedData() {
      const h = new SessionHarness();
      const a = await h.peer(A);
      const b = await h.peer(B);
      const toB = { endpoint: B, publicKey: b.identity.publicKey };
      a.layer.send(toB, bytes('hello'));
      await h.settle();
      h.network.kill(B);
      for (const word of ['d1', 'd2', 'd3']) a.layer.send(toB, bytes(word));
      await h.settle();
      h.network.revive(B);
      const data = h.wire.filter((p) => packetType(p) === T.DATA).map((p) => p.bytes);
      return { h, a, b, data };
    }

    it('accepts reordered packets once each and drops replays', async () => {
      const { b, data } = await capturedData();
      for (const i of [2, 0, 1, 2, 0]) b.transport.receive(data[i], A);
      expect(text(b)).toEqual(['hello', 'd3', 'd1', 'd2']);
      expect(b.drops).toEqual(['replay', 'replay']);
    });

    it('drops truncated and bit-flipped packets without delivering anything', async () => {
      const { b, data } = await capturedData();
      const packet = data[0];
      for (let cut = 0; cut < packet.length; cut++) b.transport.receive(packet.subarray(0, cut), A);
      for (let bit = 0; bit < packet.length * 8; bit++) {
        const flipped = new Uint8Array(packet);
        flipped[bit >> 3] ^= 1 << (bit & 7);
        b.transport.receive(flipped, A);
      }
      expect(text(b)).toEqual(['hello']);
      const reasons = new Set(b.drops);
      for (const reason of reasons) {
        expect([
          'too_short',
          'bad_magic',
          'bad_version',
          'unknown_packet_type',
          'unknown_session',
          'decrypt_failed',
          'replay',
          'bad_handshake',
        ]).toContain(reason);
      }
      expect(reasons.has('decrypt_failed')).toBe(true);
      // The untouched packet still goes through: nothing above moved the replay window.
      b.transport.receive(packet, A);
      expect(text(b)).toEqual(['hello', 'd1']);
    });

    it('drops a valid packet arriving from another address (sessions are bound to ip:port)', async () => {
      const { b, data } = await capturedData();
      b.transport.receive(data[0], { host: '10.0.0.9', port: 4001 });
      expect(b.drops).toEqual(['wrong_endpoint']);
      expect(text(b)).toEqual(['hello']);
    });
  });

  it('never throws on random bytes behind any header, and counts every drop', () => {
    return fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 0x12 }),
        fc.uint8Array({ maxLength: 1300 }),
        async (type, body) => {
          const h = new SessionHarness();
          const b = await h.peer(B, { echo: true });
          const packet = new Uint8Array([0x4b, 0x44, 0x01, type, ...body]);
          expect(() => b.transport.receive(packet, A)).not.toThrow();
          expect(b.received).toEqual([]);
          expect(b.drops.length + h.wire.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses an initiator that claims a static key it does not own', async () => {
    const h = new SessionHarness();
    const victim = generateIdentity();
    const attacker = generateIdentity();
    const mallory = await h.peer(A, { identity: { ...victim, privateKey: attacker.privateKey } });
    const b = await h.peer(B, { echo: true });
    mallory.layer.send({ endpoint: B, publicKey: b.identity.publicKey }, bytes('i am the victim'));
    await h.settle();
    expect(b.received).toEqual([]);
    expect(b.drops).toEqual(['bad_handshake']);
    expect(b.layer.stats().peers).toBe(0);
  });

  it('gets no answer from a node whose key differs from the pinned one', async () => {
    const h = new SessionHarness();
    const a = await h.peer(A);
    const impostor = await h.peer(B, { echo: true });
    a.layer.send({ endpoint: B, publicKey: generateIdentity().publicKey }, bytes('for the real B'));
    await h.settle();
    expect(impostor.received).toEqual([]);
    expect(impostor.drops).toEqual(['bad_handshake']);
    expect(a.received).toEqual([]);
  });

  it('drops our own INIT reflected back at us and refuses to send to our own key', async () => {
    const h = new SessionHarness();
    const a = await h.peer(A);
    const b = await h.peer(B, { identity: a.identity });
    a.layer.send({ endpoint: B, publicKey: a.identity.publicKey }, bytes('loop'));
    expect(a.drops).toEqual(['send_dropped']);
    // An INIT made with b's own key pair, as a reflection of b's own packet would be.
    const own = { publicKey: a.identity.publicKey, privateKey: a.identity.privateKey };
    const handshake = InitiatorHandshake.start({ local: own, remoteStatic: own.publicKey })!;
    const init = encodeInit({
      senderIndex: 1,
      attempt: 0,
      ephemeral: handshake.ephemeralPublicKey,
      encryptedStatic: handshake.encryptedStatic,
      encryptedBody: handshake.sealPayload(0, initBodyPlaintext(0, bytes('loop'), initBodyLengthFor(4))),
    });
    b.transport.receive(init, A);
    expect(b.drops).toEqual(['own_packet']);
  });

  it('ignores an UNKNOWN_SESSION that names no session of ours, or a counter we never used', async () => {
    const h = new SessionHarness();
    const a = await h.peer(A);
    const b = await h.peer(B, { echo: true });
    a.layer.send({ endpoint: B, publicKey: b.identity.publicKey }, bytes('x'));
    await h.settle();
    const forged = new Uint8Array(UNKNOWN_SESSION_PACKET_BYTES);
    forged.set([0x4b, 0x44, 0x01, T.UNKNOWN_SESSION, 0xde, 0xad, 0xbe, 0xef]);
    a.transport.receive(forged, B);
    expect(a.drops).toEqual(['unknown_session']);
    expect(a.layer.stats().sessionsLost).toBe(0);
  });

  describe('cookies', () => {
    it("in 'always' mode answers a cookie-less INIT with a 52-byte COOKIE and no DH; the initiator retries with it", async () => {
      const h = new SessionHarness();
      const a = await h.peer(A);
      const b = await h.peer(B, { echo: true, cookieMode: 'always' });
      a.layer.send({ endpoint: B, publicKey: b.identity.publicKey }, bytes('behind a cookie'));
      await h.clock.advance(15);
      expect(h.wire.map(packetType)).toEqual([T.INIT, T.COOKIE]);
      expect(h.wire[1].bytes.length).toBe(COOKIE_PACKET_BYTES);
      expect(b.layer.stats().dhOperations).toBe(0);
      await h.settle();
      expect(h.wire.map(packetType)).toEqual([T.INIT, T.COOKIE, T.INIT, T.RESP]);
      expect(text(b)).toEqual(['behind a cookie']);
      expect(text(a)).toEqual(['\xeebehind a cookie']);
      expect(b.drops).toEqual(['cookie_required']);
      // The cookie proved a's address: a reply needs no confirmation round.
      a.layer.send({ endpoint: B, publicKey: b.identity.publicKey }, bytes('next'));
      await h.settle();
      expect(text(a)).toEqual(['\xeebehind a cookie', '\xeenext']);
    });

    it("in 'auto' mode switches to cookies above the threshold: a flood costs no DH beyond it", async () => {
      const h = new SessionHarness();
      const b = await h.peer(B, { echo: true, handshakeCookieThreshold: 10 });
      const flood = await foreignInits(b.identity.publicKey, 60);
      flood.forEach((init, i) => b.transport.receive(init, { host: '203.0.113.7', port: 2000 + i }));
      const stats = b.layer.stats();
      expect(stats.handshakesAccepted).toBe(10);
      expect(stats.dhOperations).toBe(10 * 4);
      expect(stats.cookiesSent).toBe(50);
      expect(b.drops.filter((r) => r === 'cookie_required')).toHaveLength(50);
      // Every COOKIE was at most 3× its INIT, and nobody was sent more than that.
      for (const packet of h.wire) expect(packet.bytes.length).toBeLessThanOrEqual(3 * 411);
      // An honest peer still gets through, with one extra round trip for the cookie.
      const a = await h.peer(A);
      a.layer.send({ endpoint: B, publicKey: b.identity.publicKey }, bytes('honest'));
      await h.settle();
      expect(text(a)).toEqual(['\xeehonest']);
      // Once the flood stops, cookies stop too.
      await h.clock.advance(3_000);
      const before = b.layer.stats().cookiesSent;
      const late = await h.peer({ host: '10.0.0.8', port: 8 });
      late.layer.send({ endpoint: B, publicKey: b.identity.publicKey }, bytes('calm'));
      await h.settle();
      expect(b.layer.stats().cookiesSent).toBe(before);
      expect(text(late)).toEqual(['\xeecalm']);
    });

    it("in 'never' mode does not send cookies at all", async () => {
      const h = new SessionHarness();
      const b = await h.peer(B, { handshakeCookieThreshold: 1, cookieMode: 'never' });
      const flood = await foreignInits(b.identity.publicKey, 5);
      flood.forEach((init, i) => b.transport.receive(init, { host: '203.0.113.7', port: 2000 + i }));
      expect(b.layer.stats()).toMatchObject({ cookiesSent: 0, handshakesAccepted: 5 });
    });
  });

  describe('amplification', () => {
    const big = (n: number) => new Uint8Array(1000).fill(n);

    it('keeps replies to an unvalidated address within 3× its bytes, then sends the rest once it is proven', async () => {
      const h = new SessionHarness();
      const a = await h.peer(A);
      const b = await h.peer(B);
      b.respond = () => [big(1), big(2), big(3)];
      a.layer.send({ endpoint: B, publicKey: b.identity.publicKey }, bytes('q'));
      await h.clock.advance(15);
      const fromA = total(sentBy(h.wire, A));
      const fromB = total(sentBy(h.wire, B));
      expect(fromA).toBe(411);
      expect(fromB).toBeLessThanOrEqual(3 * fromA);
      expect(h.wire.map(packetType)).toEqual([T.INIT, T.RESP]);
      expect(b.layer.stats().repliesDeferred).toBe(2);
      await h.settle();
      // a confirmed with an empty DATA, which released the two held replies.
      expect(h.wire.map(packetType)).toEqual([T.INIT, T.RESP, T.DATA, T.DATA, T.DATA]);
      expect(h.wire[2].bytes.length).toBe(32);
      expect(a.received.map((r) => r.payload[0])).toEqual([1, 2, 3]);
    });

    it('sends a spoofed victim no more than 3× what arrived "from" it, however much the handler answers', async () => {
      const h = new SessionHarness();
      const b = await h.peer(B);
      b.respond = () => [big(1), big(2), big(3), big(4), big(5), big(6), big(7), big(8), big(9), big(10)];
      const [init] = await foreignInits(b.identity.publicKey, 1);
      const victim = { host: '198.51.100.1', port: 53 };
      b.transport.receive(init, victim);
      b.transport.receive(init, victim); // a replayed copy raises the budget, and gets the same RESP
      const toVictim = h.wire.filter((p) => p.to.port === victim.port);
      expect(total(toVictim)).toBeLessThanOrEqual(3 * 2 * init.length);
      expect(hex(toVictim[0].bytes)).toBe(hex(toVictim[1].bytes));
      // One RESP (with the first reply) twice; eight replies held for a proof that never comes; the tenth
      // reply to one payload is more than any reply needs and is refused.
      expect(toVictim.map(packetType)).toEqual([T.RESP, T.RESP]);
      expect(b.layer.stats().repliesDeferred).toBe(8);
      expect(b.drops).toEqual(['send_dropped']);
      // A later reply finds the budget spent and the queue full.
      b.layer.send({ endpoint: victim, publicKey: b.received[0].publicKey }, big(11));
      expect(b.drops).toEqual(['send_dropped', 'amplification_limit']);
      expect(h.wire.filter((p) => p.to.port === victim.port)).toHaveLength(2);
    });

    it('never answers HELLO, INIT or DATA with more than 3× their size (KEY, COOKIE, UNKNOWN_SESSION)', async () => {
      const h = new SessionHarness();
      const b = await h.peer(B, { cookieMode: 'always' });
      const hello = new Uint8Array(44);
      hello.set([0x4b, 0x44, 0x01, T.HELLO]);
      b.transport.receive(hello, A);
      const [init] = await foreignInits(b.identity.publicKey, 1);
      b.transport.receive(init, A);
      const data = new Uint8Array(32);
      data.set([0x4b, 0x44, 0x01, T.DATA, 1, 2, 3, 4]);
      b.transport.receive(data, A);
      expect(h.wire.map((p) => [packetType(p), p.bytes.length])).toEqual([
        [T.KEY, 44],
        [T.COOKIE, 52],
        [T.UNKNOWN_SESSION, 16],
      ]);
    });
  });

  it('sends no confirmation DATA when every reply fitted the RESP', async () => {
    const h = new SessionHarness();
    const a = await h.peer(A);
    const b = await h.peer(B, { echo: true });
    a.layer.send({ endpoint: B, publicKey: b.identity.publicKey }, bytes('small'));
    await h.settle();
    expect(h.wire.map(packetType)).toEqual([T.INIT, T.RESP]);
    expect(b.layer.stats().repliesDeferred).toBe(0);
  });
});
