import { KademliaError } from '../errors';
import { generateIdentity } from '../id/identity';
import { PlaintextSessionLayer } from '../session/plaintext-session';
import type { InboundPayload } from '../session/session-layer';
import { VirtualClock } from '../sim/virtual-clock';
import { MemoryNetwork } from '../transport/memory-network';
import { endpointKey } from '../transport/transport';
import {
  MessageType,
  RemoteErrorCode,
  type Message,
  type NodesMessage,
  type PongMessage,
  type RequestMessage,
} from '../wire/messages';
import type { RpcReply } from './pending-request';
import { RpcEngine, type RequestHandler, type RpcEngineOptions } from './rpc-engine';
import { PeerTimeouts } from './rtt-estimator';
import { FakeSession, fakePeer, type FakePeer } from './test/fake-session';

/** Adaptive timeout of a peer never measured; doubles after each timeout up to the ceiling. */
const INITIAL_TIMEOUT_MS = 1_000;

function setup(overrides: Partial<RpcEngineOptions> = {}) {
  const clock = new VirtualClock();
  const session = new FakeSession();
  const timeouts = new PeerTimeouts({
    initialTimeoutMs: INITIAL_TIMEOUT_MS,
    minTimeoutMs: 100,
    maxTimeoutMs: 8_000,
  });
  const activity: Array<{ sender: InboundPayload; rttMs?: number }> = [];
  const engine = new RpcEngine({
    session,
    clock,
    timeouts,
    maxInflight: 8,
    handleRequest: () => undefined,
    onPeerActivity: (sender, info) => activity.push({ sender, rttMs: info.rttMs }),
    ...overrides,
  });
  return { clock, session, timeouts, engine, activity };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: KademliaError };

/** Observes a promise at once, so a rejection while the clock runs is never reported as unhandled. */
function capture<T>(promise: Promise<T>): { settled?: Settled<T>; done: Promise<Settled<T>> } {
  const box: { settled?: Settled<T>; done: Promise<Settled<T>> } = {} as never;
  box.done = promise.then(
    (value) => (box.settled = { ok: true, value }),
    (error: KademliaError) => (box.settled = { ok: false, error }),
  );
  return box;
}

async function expectRejected<T>(box: { done: Promise<Settled<T>> }, code: string): Promise<KademliaError> {
  const settled = await box.done;
  if (settled.ok) throw new Error(`expected ${code}, got a reply`);
  expect(settled.error).toBeInstanceOf(KademliaError);
  expect(settled.error.code).toBe(code);
  return settled.error;
}

async function expectReply<T>(box: { done: Promise<Settled<T>> }): Promise<T> {
  const settled = await box.done;
  if (!settled.ok) throw settled.error;
  return settled.value;
}

function pong(requestId: number): PongMessage {
  return { type: MessageType.PONG, requestId, observed: { host: '192.0.2.1', port: 6881 } };
}

function nodes(requestId: number, contacts: FakePeer[], total = 1, part = 0): NodesMessage {
  return { type: MessageType.NODES, requestId, total, part, contacts: contacts.map((p) => p.contact) };
}

/** Lets promise continuations run without moving virtual time. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('RpcEngine', () => {
  describe('matching responses', () => {
    it('resolves with the matching response, its RTT and the responder as a contact, and samples the RTT', async () => {
      const { clock, session, timeouts, engine } = setup();
      const peer = fakePeer(1);
      const box = capture(engine.request<PongMessage>(peer.address, { type: MessageType.PING }));
      const sent = session.last();
      expect(sent.to).toEqual(peer.address);
      expect(sent.message.type).toBe(MessageType.PING);

      await clock.advance(40);
      session.deliver(peer, pong(sent.message.requestId));
      const reply = await expectReply(box);

      expect(reply.message).toEqual(pong(sent.message.requestId));
      expect(reply.rttMs).toBe(40);
      expect(reply.partial).toBe(false);
      expect(reply.from).toEqual(peer.contact);
      expect(timeouts.estimator(endpointKey(peer.endpoint))?.srtt).toBe(40);
      expect(timeouts.medianRttMs()).toBe(40);
      expect(engine.inflight).toBe(0);
      expect(clock.pending()).toBe(0);
    });

    it('gives concurrent requests distinct IDs and settles each with its own answer', async () => {
      const { session, engine } = setup();
      const peer = fakePeer(1);
      const first = capture(engine.request(peer.address, { type: MessageType.PING }));
      const second = capture(engine.request(peer.address, { type: MessageType.PING }));
      const [a, b] = session.sent.map((s) => s.message.requestId);
      expect(a).not.toBe(b);

      session.deliver(peer, pong(b));
      await flush();
      expect(first.settled).toBeUndefined();
      expect((await expectReply(second)).message.requestId).toBe(b);
      session.deliver(peer, pong(a));
      expect((await expectReply(first)).message.requestId).toBe(a);
    });

    it('drops a response from another address as wrong_sender and still completes on the real answer', async () => {
      const { session, engine } = setup();
      const peer = fakePeer(1);
      const box = capture(engine.request(peer.address, { type: MessageType.PING }));
      const { requestId } = session.last().message;

      // Same key, other port: someone who learned the key and guessed the request ID.
      session.deliver(
        { endpoint: { ...peer.endpoint, port: 9999 }, publicKey: peer.publicKey },
        pong(requestId),
      );
      await flush();
      expect(box.settled).toBeUndefined();
      expect(engine.stats.drops.get('wrong_sender')).toBe(1);

      session.deliver(peer, pong(requestId));
      expect((await expectReply(box)).from).toEqual(peer.contact);
    });

    it('accepts the answer of a peer whose IPv6 address the request wrote in a non-canonical form', async () => {
      const { session, engine } = setup();
      // Sessions report senders in canonical form; the caller may have written the address any valid way.
      const peer = fakePeer(1, { host: '2001:db8::7', port: 4001 });
      const box = capture(
        engine.request(
          { endpoint: { host: '2001:DB8:0::7', port: 4001 }, publicKey: peer.publicKey },
          { type: MessageType.PING },
        ),
      );
      const { requestId } = session.last().message;

      session.deliver(
        { endpoint: { host: '2001:db8::7', port: 4002 }, publicKey: peer.publicKey },
        pong(requestId),
      );
      await flush();
      expect(box.settled).toBeUndefined();
      expect(engine.stats.drops.get('wrong_sender')).toBe(1);

      session.deliver(peer, pong(requestId));
      expect((await expectReply(box)).from).toEqual(peer.contact);
      expect(engine.stats.drops.get('wrong_sender')).toBe(1);
    });

    it('drops a response from the right address with a key other than the pinned one as wrong_sender', async () => {
      const { session, engine } = setup();
      const peer = fakePeer(1);
      const impostor = fakePeer(2, peer.endpoint);
      const box = capture(engine.request(peer.address, { type: MessageType.PING }));
      const { requestId } = session.last().message;

      session.deliver(impostor, pong(requestId));
      await flush();
      expect(box.settled).toBeUndefined();
      expect(engine.stats.drops.get('wrong_sender')).toBe(1);

      session.deliver(peer, pong(requestId));
      expect((await expectReply(box)).from.publicKey).toEqual(peer.publicKey);
    });

    it('accepts any key at the address when the request pinned none, and reports the key that answered', async () => {
      const { session, engine } = setup();
      const peer = fakePeer(3);
      const box = capture(engine.request({ endpoint: peer.endpoint }, { type: MessageType.PING }));
      session.deliver(peer, pong(session.last().message.requestId));
      const reply = await expectReply(box);
      expect(reply.from).toEqual(peer.contact);
      expect(engine.stats.drops.total()).toBe(0);
    });

    it("counts a response to a request ID nobody is waiting for as 'unexpected_response'", async () => {
      const { session, engine, activity } = setup();
      const peer = fakePeer(1);
      const box = capture(engine.request(peer.address, { type: MessageType.PING }));
      const { requestId } = session.last().message;

      session.deliver(peer, pong((requestId + 1) % 0xffff_ffff));
      await flush();
      expect(engine.stats.drops.get('unexpected_response')).toBe(1);
      expect(box.settled).toBeUndefined();
      expect(activity).toHaveLength(0);
    });

    it("drops a response of a type the request cannot get as 'wrong_response_type' and keeps waiting", async () => {
      const { session, engine } = setup();
      const peer = fakePeer(1);
      const box = capture(
        engine.request(peer.address, { type: MessageType.FIND_NODE, target: fakePeer(9).nodeId }),
      );
      const { requestId } = session.last().message;

      session.deliver(peer, pong(requestId));
      await flush();
      expect(engine.stats.drops.get('wrong_response_type')).toBe(1);
      expect(box.settled).toBeUndefined();

      session.deliver(peer, nodes(requestId, [fakePeer(4)]));
      const reply = await expectReply(box);
      expect(reply.message.type).toBe(MessageType.NODES);
    });

    it('rejects with RPC_REMOTE_ERROR carrying the remote code when the peer answers ERROR', async () => {
      const { session, engine } = setup();
      const peer = fakePeer(1);
      const box = capture(engine.request(peer.address, { type: MessageType.PING }));
      session.deliver(peer, {
        type: MessageType.ERROR,
        requestId: session.last().message.requestId,
        code: RemoteErrorCode.OVERLOADED,
        message: 'busy',
      });
      const error = await expectRejected(box, 'RPC_REMOTE_ERROR');
      expect(error.details).toMatchObject({ remoteCode: RemoteErrorCode.OVERLOADED, remoteMessage: 'busy' });
      expect(engine.stats.remoteErrors).toBe(1);
      expect(engine.inflight).toBe(0);
    });
  });

  describe('timeouts and retries', () => {
    it('rejects with RPC_TIMEOUT after its retries, resending the same request after each doubled timeout', async () => {
      const { clock, session, engine } = setup();
      const peer = fakePeer(1);
      const box = capture(engine.request(peer.address, { type: MessageType.PING }, { retries: 2 }));

      await clock.advance(INITIAL_TIMEOUT_MS - 1);
      expect(session.sent).toHaveLength(1);
      await clock.advance(1);
      expect(session.sent).toHaveLength(2);
      // RFC 6298 §5.5: the peer's timeout doubled after it missed one.
      await clock.advance(2 * INITIAL_TIMEOUT_MS - 1);
      expect(session.sent).toHaveLength(2);
      await clock.advance(1);
      expect(session.sent).toHaveLength(3);
      await clock.advance(4 * INITIAL_TIMEOUT_MS - 1);
      expect(box.settled).toBeUndefined();
      await clock.advance(1);

      const error = await expectRejected(box, 'RPC_TIMEOUT');
      expect(error.details).toMatchObject({ attempts: 3 });
      expect(new Set(session.sent.map((s) => s.message.requestId)).size).toBe(1);
      expect(session.sent.every((s) => s.to === peer.address)).toBe(true);
      expect(engine.stats.retries).toBe(2);
      expect(engine.stats.timeouts).toBe(1);
      expect(engine.stats.requestsSent.get('ping')).toBe(3);
      expect(engine.inflight).toBe(0);
      expect(clock.pending()).toBe(0);
    });

    it('uses timeoutMs instead of the adaptive timeout when given', async () => {
      const { clock, engine } = setup();
      const box = capture(
        engine.request(fakePeer(1).address, { type: MessageType.PING }, { timeoutMs: 300 }),
      );
      await clock.advance(299);
      expect(box.settled).toBeUndefined();
      await clock.advance(1);
      await expectRejected(box, 'RPC_TIMEOUT');
    });

    it('resolves on a late answer to the first attempt after it was resent', async () => {
      const { clock, session, engine } = setup();
      const peer = fakePeer(1);
      const box = capture(engine.request(peer.address, { type: MessageType.PING }, { retries: 1 }));
      await clock.advance(INITIAL_TIMEOUT_MS + 500);
      expect(session.sent).toHaveLength(2);

      // The answer carries the only request ID there is, so it does not matter which attempt it answers.
      session.deliver(peer, pong(session.sent[0].message.requestId));
      const reply = await expectReply(box);
      expect(reply.rttMs).toBe(INITIAL_TIMEOUT_MS + 500);
      expect(engine.stats.timeouts).toBe(0);
      expect(clock.pending()).toBe(0);
    });

    it("takes no RTT sample from a request that was resent (Karn's rule)", async () => {
      const { clock, session, timeouts, engine, activity } = setup();
      const peer = fakePeer(1);
      const box = capture(engine.request(peer.address, { type: MessageType.PING }, { retries: 1 }));
      await clock.advance(INITIAL_TIMEOUT_MS + 10);
      session.deliver(peer, pong(session.last().message.requestId));
      await expectReply(box);

      expect(timeouts.estimator(endpointKey(peer.endpoint))?.samples).toBe(0);
      expect(timeouts.medianRttMs()).toBeUndefined();
      expect(activity).toHaveLength(1);
      expect(activity[0].rttMs).toBeUndefined();
    });
  });

  describe('multi-part NODES replies', () => {
    it('resolves once both parts of a two-part reply arrived, with all contacts merged', async () => {
      const { clock, session, engine } = setup();
      const peer = fakePeer(1);
      const box = capture(
        engine.request<NodesMessage>(peer.address, {
          type: MessageType.FIND_NODE,
          target: fakePeer(9).nodeId,
        }),
      );
      const { requestId } = session.last().message;
      const partOne = [fakePeer(10), fakePeer(11)];
      const partTwo = [fakePeer(12)];

      await clock.advance(30);
      session.deliver(peer, nodes(requestId, partOne, 2));
      await flush();
      expect(box.settled).toBeUndefined();
      await clock.advance(10);
      session.deliver(peer, nodes(requestId, partTwo, 2, 1));

      const reply = await expectReply(box);
      expect(reply.partial).toBe(false);
      expect(reply.message).toMatchObject({ total: 1, part: 0 });
      expect(reply.message.contacts).toEqual([...partOne, ...partTwo].map((p) => p.contact));
      // The RTT is the first part's: the later ones only measure how the reply was paced.
      expect(reply.rttMs).toBe(30);
      expect(reply.from).toEqual(peer.contact);
      expect(clock.pending()).toBe(0);
    });

    it('resolves as partial at the timeout when only one part of a two-part reply arrived', async () => {
      const { clock, session, engine } = setup();
      const peer = fakePeer(1);
      // Retries are for silence: a peer that sent part of its answer is not asked again.
      const box = capture(
        engine.request<NodesMessage>(
          peer.address,
          { type: MessageType.FIND_NODE, target: fakePeer(9).nodeId },
          { retries: 2 },
        ),
      );
      const { requestId } = session.last().message;
      await clock.advance(30);
      session.deliver(peer, nodes(requestId, [fakePeer(10), fakePeer(11)], 2));

      await clock.advance(INITIAL_TIMEOUT_MS - 31);
      expect(box.settled).toBeUndefined();
      await clock.advance(1);
      const reply = await expectReply(box);
      expect(reply.partial).toBe(true);
      expect(reply.message.contacts).toEqual([fakePeer(10).contact, fakePeer(11).contact]);
      expect(session.sent).toHaveLength(1);
      expect(engine.inflight).toBe(0);
      expect(clock.pending()).toBe(0);
    });

    it('ignores a duplicated part: a two-part reply completes only once its other part arrives', async () => {
      const { session, engine } = setup();
      const peer = fakePeer(1);
      const box = capture(
        engine.request<NodesMessage>(peer.address, {
          type: MessageType.FIND_NODE,
          target: fakePeer(9).nodeId,
        }),
      );
      const { requestId } = session.last().message;

      // A resent or replayed datagram: the same part twice is not the whole reply.
      session.deliver(peer, nodes(requestId, [fakePeer(10)], 2, 0));
      session.deliver(peer, nodes(requestId, [fakePeer(10)], 2, 0));
      await flush();
      expect(box.settled).toBeUndefined();
      expect(engine.stats.drops.get('duplicate_part')).toBe(1);

      session.deliver(peer, nodes(requestId, [fakePeer(11)], 2, 1));
      const reply = await expectReply(box);
      expect(reply.partial).toBe(false);
      expect(reply.message.contacts).toEqual([fakePeer(10).contact, fakePeer(11).contact]);
    });

    it('merges parts in their numbered order, whatever order they arrive in', async () => {
      const { session, engine } = setup();
      const peer = fakePeer(1);
      const box = capture(
        engine.request<NodesMessage>(peer.address, {
          type: MessageType.FIND_NODE,
          target: fakePeer(9).nodeId,
        }),
      );
      const { requestId } = session.last().message;
      session.deliver(peer, nodes(requestId, [fakePeer(12)], 3, 2));
      session.deliver(peer, nodes(requestId, [fakePeer(10)], 3, 0));
      session.deliver(peer, nodes(requestId, [fakePeer(11)], 3, 1));

      const reply = await expectReply(box);
      expect(reply.message.contacts).toEqual([10, 11, 12].map((n) => fakePeer(n).contact));
    });

    it("drops a part that disagrees with the first part's total and keeps collecting", async () => {
      const { session, engine } = setup();
      const peer = fakePeer(1);
      const box = capture(
        engine.request<NodesMessage>(peer.address, {
          type: MessageType.FIND_NODE,
          target: fakePeer(9).nodeId,
        }),
      );
      const { requestId } = session.last().message;
      session.deliver(peer, nodes(requestId, [fakePeer(10)], 2, 0));
      session.deliver(peer, nodes(requestId, [fakePeer(13)], 3, 1));
      session.deliver(peer, nodes(requestId, [fakePeer(14)], 1, 0));
      await flush();
      expect(box.settled).toBeUndefined();
      expect(engine.stats.drops.get('inconsistent_part')).toBe(2);

      session.deliver(peer, nodes(requestId, [fakePeer(11)], 2, 1));
      expect((await expectReply(box)).message.contacts).toEqual([fakePeer(10).contact, fakePeer(11).contact]);
    });

    it("does not back off the peer's timeout when the timeout ends a reply that was partly received", async () => {
      const { clock, session, timeouts, engine } = setup();
      const peer = fakePeer(1);
      const box = capture(
        engine.request<NodesMessage>(peer.address, {
          type: MessageType.FIND_NODE,
          target: fakePeer(9).nodeId,
        }),
      );
      const { requestId } = session.last().message;
      await clock.advance(30);
      session.deliver(peer, nodes(requestId, [fakePeer(10)], 2, 0));
      const answeredTimeout = timeouts.timeoutFor(endpointKey(peer.endpoint));

      await clock.runUntilSettled(box.done);
      const reply = await expectReply(box);
      expect(reply.partial).toBe(true);
      expect(reply.rttMs).toBe(30);
      // The peer answered; a lost second datagram says nothing about its round-trip time.
      expect(timeouts.timeoutFor(endpointKey(peer.endpoint))).toBe(answeredTimeout);
      expect(engine.stats.timeouts).toBe(0);
    });
  });

  describe('bounds, aborts and closing', () => {
    it('rejects with RPC_OVERLOADED beyond maxInflight and accepts again once a slot is free', async () => {
      const { session, engine } = setup({ maxInflight: 2 });
      const peer = fakePeer(1);
      const first = capture(engine.request(peer.address, { type: MessageType.PING }));
      capture(engine.request(peer.address, { type: MessageType.PING }));
      await expectRejected(
        capture(engine.request(peer.address, { type: MessageType.PING })),
        'RPC_OVERLOADED',
      );
      expect(session.sent).toHaveLength(2);
      expect(engine.stats.overloaded).toBe(1);

      session.deliver(peer, pong(session.sent[0].message.requestId));
      await expectReply(first);
      capture(engine.request(peer.address, { type: MessageType.PING }));
      expect(session.sent).toHaveLength(3);
      expect(engine.inflight).toBe(2);
    });

    it('rejects at once with RPC_ABORTED when the signal was aborted before the request, sending nothing', async () => {
      const { clock, session, engine } = setup();
      const controller = new AbortController();
      controller.abort();
      const box = capture(
        engine.request(fakePeer(1).address, { type: MessageType.PING }, { signal: controller.signal }),
      );
      await expectRejected(box, 'RPC_ABORTED');
      expect(session.sent).toHaveLength(0);
      expect(engine.inflight).toBe(0);
      expect(clock.pending()).toBe(0);
    });

    it('rejects with RPC_ABORTED when aborted in flight, leaving no pending request or timer behind', async () => {
      const { clock, session, engine } = setup();
      const peer = fakePeer(1);
      const controller = new AbortController();
      const onSlow = jest.fn();
      const box = capture(
        engine.request(
          peer.address,
          { type: MessageType.PING },
          { signal: controller.signal, retries: 2, slowAfterMs: 200, onSlow },
        ),
      );
      await clock.advance(100);
      expect(clock.pending()).toBe(2);

      controller.abort();
      await expectRejected(box, 'RPC_ABORTED');
      expect(engine.inflight).toBe(0);
      expect(clock.pending()).toBe(0);
      expect(engine.stats.aborted).toBe(1);

      // The request is gone: a late answer is just unexpected.
      session.deliver(peer, pong(session.last().message.requestId));
      expect(engine.stats.drops.get('unexpected_response')).toBe(1);
      await clock.advance(10_000);
      expect(onSlow).not.toHaveBeenCalled();
      expect(session.sent).toHaveLength(1);
    });

    it('close() rejects every request in flight with RPC_CLOSED and fails later requests at once', async () => {
      const { clock, session, engine } = setup();
      const peer = fakePeer(1);
      const inFlight = [1, 2, 3].map(() =>
        capture(
          engine.request(peer.address, { type: MessageType.PING }, { slowAfterMs: 50, onSlow: () => {} }),
        ),
      );
      engine.close();
      for (const box of inFlight) await expectRejected(box, 'RPC_CLOSED');
      expect(engine.inflight).toBe(0);
      expect(clock.pending()).toBe(0);

      await expectRejected(capture(engine.request(peer.address, { type: MessageType.PING })), 'RPC_CLOSED');
      expect(session.sent).toHaveLength(3);
    });
  });

  describe('failures while sending', () => {
    it('rejects with the error when the session cannot send, leaving no pending request or timer', async () => {
      const { clock, session, engine } = setup();
      jest.spyOn(session, 'send').mockImplementation(() => {
        throw new Error('socket gone');
      });
      const box = capture(
        engine.request(
          fakePeer(1).address,
          { type: MessageType.PING },
          { slowAfterMs: 50, onSlow: () => {} },
        ),
      );
      const settled = await box.done;
      expect(settled.ok).toBe(false);
      expect(!settled.ok && settled.error.message).toBe('socket gone');
      expect(engine.inflight).toBe(0);
      expect(clock.pending()).toBe(0);
    });

    it('rejects, instead of throwing from the timer, when the session fails on a retry', async () => {
      const { clock, session, engine } = setup();
      const box = capture(engine.request(fakePeer(1).address, { type: MessageType.PING }, { retries: 2 }));
      jest.spyOn(session, 'send').mockImplementation(() => {
        throw new Error('socket gone');
      });
      await expect(clock.advance(INITIAL_TIMEOUT_MS)).resolves.toBeUndefined();
      const settled = await box.done;
      expect(!settled.ok && settled.error.message).toBe('socket gone');
      expect(engine.inflight).toBe(0);
      expect(clock.pending()).toBe(0);
    });

    it('returns a rejected promise, never a synchronous throw, for a request the codec refuses', async () => {
      const { clock, session, engine } = setup();
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = engine.request(fakePeer(1).address, {
          type: MessageType.FIND_NODE,
          target: new Uint8Array(3),
        });
      }).not.toThrow();
      await expectRejected(capture(promise!), 'WIRE_MALFORMED');
      expect(session.sent).toHaveLength(0);
      expect(engine.inflight).toBe(0);
      expect(clock.pending()).toBe(0);
    });

    it('neither hands inbound requests to the handler nor answers them after close()', () => {
      const handleRequest = jest.fn((request: RequestMessage) => pong(request.requestId));
      const { session, engine, activity } = setup({ handleRequest });
      engine.close();
      session.deliver(fakePeer(5), { type: MessageType.PING, requestId: 1 });
      expect(handleRequest).not.toHaveBeenCalled();
      expect(session.sent).toHaveLength(0);
      expect(activity).toHaveLength(0);
    });
  });

  describe('slow requests', () => {
    it('calls onSlow once while the request is unanswered, across its retries', async () => {
      const { clock, engine } = setup();
      const onSlow = jest.fn();
      const box = capture(
        engine.request(
          fakePeer(1).address,
          { type: MessageType.PING },
          { retries: 1, slowAfterMs: 300, onSlow },
        ),
      );
      await clock.advance(299);
      expect(onSlow).not.toHaveBeenCalled();
      await clock.advance(1);
      expect(onSlow).toHaveBeenCalledTimes(1);
      await clock.runUntilSettled(box.done);
      await expectRejected(box, 'RPC_TIMEOUT');
      expect(engine.stats.retries).toBe(1);
      expect(onSlow).toHaveBeenCalledTimes(1);
    });

    it('never calls onSlow for a request answered before slowAfterMs', async () => {
      const { clock, session, engine } = setup();
      const peer = fakePeer(1);
      const onSlow = jest.fn();
      const box = capture(
        engine.request(peer.address, { type: MessageType.PING }, { slowAfterMs: 300, onSlow }),
      );
      await clock.advance(299);
      session.deliver(peer, pong(session.last().message.requestId));
      await expectReply(box);
      await clock.advance(10_000);
      expect(onSlow).not.toHaveBeenCalled();
      expect(clock.pending()).toBe(0);
    });
  });

  describe('inbound requests', () => {
    it('hands an inbound request to the handler and sends its single reply back to the sender', async () => {
      const seen: Array<{ request: RequestMessage; sender: InboundPayload }> = [];
      const handleRequest: RequestHandler = (request, sender) => {
        seen.push({ request, sender });
        return { type: MessageType.PONG, requestId: request.requestId, observed: sender.from };
      };
      const { session, engine } = setup({ handleRequest });
      const peer = fakePeer(5);
      session.deliver(peer, { type: MessageType.PING, requestId: 77 });

      expect(seen).toHaveLength(1);
      expect(seen[0].request).toEqual({ type: MessageType.PING, requestId: 77 });
      expect(seen[0].sender.nodeId).toEqual(peer.nodeId);
      expect(session.sent).toEqual([
        {
          to: { endpoint: peer.endpoint, publicKey: peer.publicKey },
          message: { type: MessageType.PONG, requestId: 77, observed: peer.endpoint },
        },
      ]);
      expect(engine.stats.requestsReceived.get('ping')).toBe(1);
      expect(engine.stats.responsesSent.get('pong')).toBe(1);
    });

    it('sends back every reply when the handler answers with several (a multi-part NODES reply)', () => {
      const handleRequest: RequestHandler = (request) => [
        nodes(request.requestId, [fakePeer(10)], 2, 0),
        nodes(request.requestId, [fakePeer(11)], 2, 1),
      ];
      const { session } = setup({ handleRequest });
      const peer = fakePeer(5);
      session.deliver(peer, { type: MessageType.FIND_NODE, requestId: 8, target: fakePeer(9).nodeId });

      expect(session.sent.map((s) => s.message)).toEqual([
        nodes(8, [fakePeer(10)], 2, 0),
        nodes(8, [fakePeer(11)], 2, 1),
      ]);
      expect(session.sent.every((s) => s.to.endpoint === peer.endpoint)).toBe(true);
    });

    it('sends nothing when the handler returns undefined', () => {
      const { session } = setup({ handleRequest: () => undefined });
      session.deliver(fakePeer(5), { type: MessageType.PING, requestId: 1 });
      expect(session.sent).toHaveLength(0);
    });

    it("counts a throwing handler as 'handler_error' and keeps serving the next request", () => {
      let calls = 0;
      const handleRequest: RequestHandler = (request) => {
        if (++calls === 1) throw new Error('handler bug');
        return pong(request.requestId);
      };
      const { session, engine } = setup({ handleRequest });
      const peer = fakePeer(5);

      expect(() => session.deliver(peer, { type: MessageType.PING, requestId: 1 })).not.toThrow();
      expect(engine.stats.drops.get('handler_error')).toBe(1);
      expect(session.sent).toHaveLength(0);

      session.deliver(peer, { type: MessageType.PING, requestId: 2 });
      expect(session.sent.map((s) => s.message.requestId)).toEqual([2]);
    });

    it("counts a reply the codec refuses as 'encode_error' and still sends the valid ones", () => {
      const handleRequest: RequestHandler = (request) => [
        { ...nodes(request.requestId, [fakePeer(10)]), total: 99 },
        nodes(request.requestId, [fakePeer(11)]),
      ];
      const { session, engine } = setup({ handleRequest });
      session.deliver(fakePeer(5), { type: MessageType.FIND_NODE, requestId: 3, target: fakePeer(9).nodeId });
      expect(engine.stats.drops.get('encode_error')).toBe(1);
      expect(session.sent.map((s) => s.message)).toEqual([nodes(3, [fakePeer(11)])]);
    });

    it('counts an undecodable payload under its wire reason and does not call the handler', () => {
      const handleRequest = jest.fn();
      const { session, engine } = setup({ handleRequest });
      session.deliverRaw(fakePeer(5), new Uint8Array([0xff, 0x00, 0x13]));
      expect(handleRequest).not.toHaveBeenCalled();
      expect(engine.stats.drops.total()).toBe(1);
      expect(Object.keys(engine.stats.drops.toJSON())[0]).toMatch(/^wire_/);
    });

    it('reports peer activity for accepted requests and matched responses, never for dropped ones', async () => {
      const { clock, session, engine, activity } = setup({
        handleRequest: (request) => pong(request.requestId),
      });
      const peer = fakePeer(1);
      session.deliver(peer, { type: MessageType.PING, requestId: 5 });
      expect(activity).toHaveLength(1);
      expect(activity[0].sender.nodeId).toEqual(peer.nodeId);
      expect(activity[0].rttMs).toBeUndefined();

      const box = capture(engine.request(peer.address, { type: MessageType.PING }));
      const { requestId } = session.last().message;
      await clock.advance(25);
      session.deliver(fakePeer(2, peer.endpoint), pong(requestId)); // wrong key
      session.deliver(peer, pong(requestId + 1)); // unknown request
      expect(activity).toHaveLength(1);

      session.deliver(peer, pong(requestId));
      await expectReply(box);
      expect(activity).toHaveLength(2);
      expect(activity[1].rttMs).toBe(25);
    });
  });

  it('answers requests and matches responses end to end over plaintext sessions on a MemoryNetwork', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock, latencyMs: () => 15 });
    const nodesUp = await Promise.all(
      [
        { host: '10.1.0.1', port: 7001 },
        { host: '2001:db8::2', port: 7002 },
      ].map(async (endpoint) => {
        const transport = network.createTransport(endpoint);
        const identity = generateIdentity();
        const session = new PlaintextSessionLayer({ transport, identity });
        const handled: Message[] = [];
        const engine = new RpcEngine({
          session,
          clock,
          timeouts: new PeerTimeouts(),
          maxInflight: 16,
          handleRequest: (request, sender) => {
            handled.push(request);
            return { type: MessageType.PONG, requestId: request.requestId, observed: sender.from };
          },
        });
        await transport.listen();
        return { endpoint, identity, engine, handled };
      }),
    );
    const [alice, bob] = nodesUp;

    const reply: RpcReply = await clock.runUntilSettled(
      alice.engine.request(
        { endpoint: bob.endpoint, publicKey: bob.identity.publicKey },
        { type: MessageType.PING },
      ),
    );
    expect(reply.message).toMatchObject({ type: MessageType.PONG, observed: alice.endpoint });
    expect(reply.rttMs).toBe(30);
    expect(reply.from).toEqual({
      id: bob.identity.nodeId,
      publicKey: bob.identity.publicKey,
      ...bob.endpoint,
    });
    expect(bob.handled).toHaveLength(1);
    expect(alice.engine.inflight).toBe(0);
    expect(clock.pending()).toBe(0);
  });
});
