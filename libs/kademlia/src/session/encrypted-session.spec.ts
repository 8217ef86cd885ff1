import { KademliaError } from '../errors';
import { idToHex } from '../id/node-id';
import {
  EncryptedPacketType as T,
  INIT_EPHEMERAL,
  INIT_MIN_BYTES,
  INIT_OVERHEAD_BYTES,
} from './encrypted-packets';
import { EncryptedSessionLayer } from './encrypted-session';
import { bytes, hex, packetType, SessionHarness, type TestPeer } from './test/encrypted-harness';

const A = { host: '10.0.0.1', port: 4001 };
const B = { host: '10.0.0.2', port: 4002 };

async function pair(options: Parameters<SessionHarness['peer']>[1] = {}) {
  const h = new SessionHarness();
  const a = await h.peer(A);
  const b = await h.peer(B, { echo: true, ...options });
  const toB = { endpoint: b.endpoint, publicKey: b.identity.publicKey };
  return { h, a, b, toB };
}

const types = (h: SessionHarness) => h.wire.map(packetType);
const text = (peer: TestPeer) => peer.received.map((r) => Buffer.from(r.payload).toString('latin1'));

describe('EncryptedSessionLayer', () => {
  it('carries the first request in the INIT and the first reply in the RESP: one round trip', async () => {
    const { h, a, b, toB } = await pair();
    a.layer.send(toB, bytes('ping'));
    await h.settle();
    expect(types(h)).toEqual([T.INIT, T.RESP]);
    expect(text(b)).toEqual(['ping']);
    expect(text(a)).toEqual(['\xeeping']);
    const inbound = b.received[0];
    expect(inbound.from).toEqual(A);
    expect(hex(inbound.publicKey)).toBe(hex(a.identity.publicKey));
    expect(idToHex(inbound.nodeId)).toBe(idToHex(a.identity.nodeId));
    expect(hex(a.received[0].publicKey)).toBe(hex(b.identity.publicKey));
    expect(a.drops).toEqual([]);
    expect(b.drops).toEqual([]);
  });

  it('sends later payloads as DATA over the session, both ways, without further key agreement', async () => {
    const { h, a, b, toB } = await pair();
    a.layer.send(toB, bytes('one'));
    await h.settle();
    a.layer.send(toB, bytes('two'));
    b.layer.send({ endpoint: A, publicKey: a.identity.publicKey }, bytes('from b'));
    await h.settle();
    expect(types(h)).toEqual([T.INIT, T.RESP, T.DATA, T.DATA, T.DATA]);
    expect(text(b)).toEqual(['one', 'two']);
    expect(text(a)).toEqual(['\xeeone', 'from b', '\xeetwo']);
    expect(a.layer.stats().dhOperations + b.layer.stats().dhOperations).toBe(8);
    expect(a.layer.stats()).toMatchObject({ handshakesInitiated: 1, handshakesCompleted: 1, peers: 1 });
    expect(b.layer.stats()).toMatchObject({ handshakesAccepted: 1, peers: 1 });
  });

  it('pads the INIT to 411 bytes and leaves 1232 − 124 bytes for a payload', async () => {
    const { h, a, toB } = await pair();
    expect(a.layer.maxPayloadBytes).toBe(1232 - INIT_OVERHEAD_BYTES);
    a.layer.send(toB, bytes('x'));
    a.layer.send(toB, new Uint8Array(a.layer.maxPayloadBytes));
    expect(h.wire.map((p) => p.bytes.length)).toEqual([INIT_MIN_BYTES, 1232]);
    expect(() => a.layer.send(toB, new Uint8Array(a.layer.maxPayloadBytes + 1))).toThrow(
      expect.objectContaining({ code: 'WIRE_TOO_LARGE' }),
    );
    await h.settle();
    // The echo of the largest payload is one byte longer: it still fits the RESP, and a DATA.
    expect(h.wire.slice(2).every((p) => p.bytes.length <= 1232)).toBe(true);
  });

  it('tells the peer about client mode inside the encryption, in both directions', async () => {
    const h = new SessionHarness();
    const a = await h.peer(A, { clientMode: true });
    const b = await h.peer(B, { echo: true });
    a.layer.send({ endpoint: B, publicKey: b.identity.publicKey }, bytes('q'));
    await h.settle();
    expect(b.received[0].clientMode).toBe(true);
    expect(a.received[0].clientMode).toBe(false);
  });

  it('turns each send during a pending handshake into an INIT attempt of the same handshake', async () => {
    const { h, a, b, toB } = await pair();
    for (const word of ['p1', 'p2', 'p3']) a.layer.send(toB, bytes(word));
    await h.settle();
    const inits = h.wire.filter((p) => packetType(p) === T.INIT);
    expect(inits.map((p) => p.bytes[8])).toEqual([0, 1, 2]);
    const ephemeral = (p: { bytes: Uint8Array }) =>
      hex(p.bytes.subarray(INIT_EPHEMERAL, INIT_EPHEMERAL + 32));
    expect(new Set(inits.map(ephemeral)).size).toBe(1);
    expect(text(b)).toEqual(['p1', 'p2', 'p3']);
    expect(text(a).sort()).toEqual(['\xeep1', '\xeep2', '\xeep3']);
    // One key agreement for the three attempts.
    expect(b.layer.stats().dhOperations).toBe(4);
    expect(b.layer.stats().peers).toBe(1);
  });

  it('answers a duplicated INIT with the identical RESP and does not deliver its payload again', async () => {
    const { h, a, b, toB } = await pair();
    a.layer.send(toB, bytes('once'));
    await h.settle();
    const [init, resp] = h.wire;
    b.transport.receive(init.bytes, A);
    await h.settle();
    expect(text(b)).toEqual(['once']);
    expect(hex(h.wire[2].bytes)).toBe(hex(resp.bytes));
    // The initiator already read that RESP: the copy is a replay and its reply is not delivered twice.
    expect(text(a)).toEqual(['\xeeonce']);
    expect(a.drops).toEqual(['replay']);
  });

  it('re-sends the handshake when the request is retried after a lost INIT', async () => {
    const { h, a, b, toB } = await pair();
    h.network.kill(B);
    a.layer.send(toB, bytes('retry me'));
    await h.settle();
    h.network.revive(B);
    a.layer.send(toB, bytes('retry me'));
    await h.settle();
    expect(text(b)).toEqual(['retry me']);
    expect(text(a)).toEqual(['\xeeretry me']);
  });

  it('learns the key of a plain host:port with HELLO/KEY, then handshakes with it', async () => {
    const { h, a, b } = await pair();
    a.layer.send({ endpoint: B }, bytes('first'));
    a.layer.send({ endpoint: B }, bytes('second'));
    await h.settle();
    expect(types(h).slice(0, 4)).toEqual([T.HELLO, T.HELLO, T.KEY, T.KEY]);
    expect(h.wire.slice(0, 4).every((p) => p.bytes.length === 44)).toBe(true);
    expect(text(b)).toEqual(['first', 'second']);
    expect(text(a)).toEqual(['\xeefirst', '\xeesecond']);
    expect(hex(a.received[0].publicKey)).toBe(hex(b.identity.publicKey));
    // Later keyless sends use the session with the learned key; the duplicate KEY was ignored.
    a.layer.send({ endpoint: B }, bytes('third'));
    await h.settle();
    expect(packetType(h.wire[h.wire.length - 2])).toBe(T.DATA);
    expect(a.drops).toEqual(['unexpected_packet']);
    expect(a.layer.stats().keyDiscoveries).toBe(1);
  });

  it('recovers when the responder restarts: UNKNOWN_SESSION, then the payload rides a new INIT', async () => {
    const { h, a, b, toB } = await pair();
    a.layer.send(toB, bytes('before'));
    await h.settle();
    h.restart(b, { echo: true });
    const start = h.wire.length;
    a.layer.send(toB, bytes('after'));
    await h.settle();
    expect(types(h).slice(start)).toEqual([T.DATA, T.UNKNOWN_SESSION, T.INIT, T.RESP]);
    expect(h.wire[start + 1].bytes.length).toBe(16);
    expect(text(b)).toEqual(['before', 'after']);
    expect(text(a)).toEqual(['\xeebefore', '\xeeafter']);
    expect(a.layer.stats().sessionsLost).toBe(1);
    expect(b.drops).toEqual(['unknown_session']);
  });

  it('recovers when the initiator restarts: its new INIT replaces the session, stale DATA re-handshakes', async () => {
    const { h, a, b, toB } = await pair();
    a.layer.send(toB, bytes('one'));
    await h.settle();
    h.restart(a);
    // b still holds the old session and sends on it: a no longer knows it.
    b.layer.send({ endpoint: A, publicKey: a.identity.publicKey }, bytes('stale'));
    await h.settle();
    expect(text(a)).toEqual(['\xeeone', 'stale']);
    a.layer.send(toB, bytes('two'));
    await h.settle();
    expect(text(b)).toEqual(['one', 'two']);
    expect(a.drops).toEqual(['unknown_session']);
  });

  it('rekeys after rekeyAfterMs: the next send is an INIT, later ones use the new session', async () => {
    const { h, a, b, toB } = await pair();
    a.layer.send(toB, bytes('old'));
    await h.settle();
    await h.clock.advance(10 * 60_000);
    a.layer.send(toB, bytes('rekey'));
    await h.settle();
    a.layer.send(toB, bytes('new'));
    await h.settle();
    expect(types(h)).toEqual([T.INIT, T.RESP, T.INIT, T.RESP, T.DATA, T.DATA]);
    expect(text(b)).toEqual(['old', 'rekey', 'new']);
    expect(a.layer.stats().rekeys).toBe(1);
  });

  it('rekeys after rekeyAfterMessages, keeping the old session while the new handshake is pending', async () => {
    const h = new SessionHarness();
    const a = await h.peer(A, { rekeyAfterMessages: 2 });
    const b = await h.peer(B);
    const toB = { endpoint: B, publicKey: b.identity.publicKey };
    a.layer.send(toB, bytes('0'));
    await h.settle();
    a.layer.send(toB, bytes('1'));
    a.layer.send(toB, bytes('2'));
    a.layer.send(toB, bytes('3'));
    a.layer.send(toB, bytes('4'));
    await h.settle();
    expect(types(h)).toEqual([T.INIT, T.RESP, T.DATA, T.DATA, T.INIT, T.DATA, T.RESP]);
    expect(text(b)).toEqual(['0', '1', '2', '3', '4']);
  });

  it('refuses DATA on a session past rejectAfterMs and makes the sender re-handshake', async () => {
    const h = new SessionHarness();
    const a = await h.peer(A);
    const b = await h.peer(B, { rejectAfterMs: 60_000, echo: true });
    const toB = { endpoint: B, publicKey: b.identity.publicKey };
    a.layer.send(toB, bytes('early'));
    await h.settle();
    await h.clock.advance(61_000);
    a.layer.send(toB, bytes('late'));
    await h.settle();
    expect(b.drops).toEqual(['session_expired']);
    expect(text(b)).toEqual(['early', 'late']);
    expect(text(a)).toEqual(['\xeeearly', '\xeelate']);
  });

  it('keeps at most maxSessions peers, forgetting the least recently used; a forgotten peer recovers', async () => {
    const h = new SessionHarness();
    const b = await h.peer(B, { maxSessions: 3, echo: true });
    const clients: TestPeer[] = [];
    for (let i = 1; i <= 5; i++) clients.push(await h.peer({ host: `10.0.1.${i}`, port: 5000 }));
    for (const client of clients) {
      client.layer.send({ endpoint: B, publicKey: b.identity.publicKey }, bytes('hi'));
      await h.settle();
    }
    expect(b.layer.stats()).toMatchObject({ peers: 3, indexes: 3, evictions: 2, handshakesAccepted: 5 });
    clients[0].layer.send({ endpoint: B, publicKey: b.identity.publicKey }, bytes('again'));
    await h.settle();
    expect(text(clients[0])).toEqual(['\xeehi', '\xeeagain']);
    expect(b.layer.stats().peers).toBe(3);
  });

  it('neither sends nor delivers after close()', async () => {
    const { h, a, b, toB } = await pair();
    b.layer.close();
    a.layer.send(toB, bytes('x'));
    await h.settle();
    expect(b.received).toEqual([]);
    a.layer.close();
    a.layer.send(toB, bytes('y'));
    expect(h.wire).toHaveLength(1);
  });

  it('validates its configuration', async () => {
    const { h, a } = await pair();
    const base = { transport: a.transport, identity: a.identity, clock: h.clock };
    for (const bad of [{ maxPacketBytes: 400 }, { maxSessions: 0 }, { cookieMode: 'sometimes' as never }]) {
      expect(() => new EncryptedSessionLayer({ ...base, ...bad })).toThrow(KademliaError);
    }
  });
});
