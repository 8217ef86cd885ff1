import { generateIdentity } from '../id/identity';
import { PlaintextSessionLayer } from '../session/plaintext-session';
import type { InboundPayload } from '../session/session-layer';
import { VirtualClock } from '../sim/virtual-clock';
import { MemoryNetwork } from '../transport/memory-network';
import { MessageType, type Message, type RequestMessage } from '../wire/messages';
import type { RpcReply } from './pending-request';
import { RpcEngine, type RequestHandler } from './rpc-engine';
import { PeerTimeouts } from './rtt-estimator';
import { fakePeer } from './test/fake-session';
import {
  INITIAL_TIMEOUT_MS,
  capture,
  expectRejected,
  expectReply,
  nodes,
  pong,
  setup,
} from './test/engine-fixtures';

describe('RpcEngine: bounds, send failures, slow requests and inbound requests', () => {
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
