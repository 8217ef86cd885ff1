import { endpointKey } from '../transport/transport';
import { MessageType, RemoteErrorCode, type NodesMessage, type PongMessage } from '../wire/messages';
import { fakePeer } from './test/fake-session';
import {
  INITIAL_TIMEOUT_MS,
  capture,
  expectRejected,
  expectReply,
  flush,
  nodes,
  pong,
  setup,
} from './test/engine-fixtures';

describe('RpcEngine: responses, timeouts and multi-part replies', () => {
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
});
