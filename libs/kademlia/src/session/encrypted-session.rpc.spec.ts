import { performance } from 'node:perf_hooks';
import { generateIdentity, type Identity } from '../id/identity';
import { idToHex, type NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import type { RpcReply } from '../rpc/pending-request';
import { RpcEngine } from '../rpc/rpc-engine';
import { PeerTimeouts } from '../rpc/rtt-estimator';
import { VirtualClock } from '../sim/virtual-clock';
import { MemoryNetwork } from '../transport/memory-network';
import { LinkedTransport } from '../transport/test/linked-transport';
import type { Endpoint } from '../transport/transport';
import { MessageType, type NodesMessage, type PongMessage } from '../wire/messages';
import { packNodes } from '../wire/nodes-packing';
import { EncryptedSessionLayer } from './encrypted-session';
import { PeerEntry } from './session-table';
import { TransportSession } from './transport-session';

/** Twenty IPv6 contacts: a FIND_NODE reply that needs two packets, so the 3× rule holds part of it back. */
function contacts(): Contact[] {
  return Array.from({ length: 20 }, (_, i) => {
    const identity = generateIdentity();
    return { id: identity.nodeId, publicKey: identity.publicKey, host: `2001:db8::${i + 1}`, port: 7000 + i };
  });
}

async function rpcNode(network: MemoryNetwork, clock: VirtualClock, endpoint: Endpoint, known: Contact[]) {
  const transport = network.createTransport(endpoint);
  const identity = generateIdentity();
  const session = new EncryptedSessionLayer({ transport, identity, clock });
  const engine = new RpcEngine({
    session,
    clock,
    timeouts: new PeerTimeouts(),
    maxInflight: 64,
    handleRequest: (request, sender) => {
      if (request.type === MessageType.PING) {
        return { type: MessageType.PONG, requestId: request.requestId, observed: sender.from };
      }
      if (request.type === MessageType.FIND_NODE) {
        return packNodes({
          requestId: request.requestId,
          contacts: known,
          maxPayloadBytes: session.maxPayloadBytes,
        });
      }
      return undefined;
    },
  });
  await transport.listen();
  return { endpoint, identity, session, engine };
}

describe('RpcEngine over EncryptedSessionLayer', () => {
  it('answers PING and a two-part FIND_NODE between two identities, and a PING to a keyless address', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork({ clock, latencyMs: () => 15 });
    const known = contacts();
    const alice = await rpcNode(network, clock, { host: '10.1.0.1', port: 7001 }, []);
    const bob = await rpcNode(network, clock, { host: '10.1.0.2', port: 7002 }, known);
    const carol = await rpcNode(network, clock, { host: '10.1.0.3', port: 7003 }, []);
    const toBob = { endpoint: bob.endpoint, publicKey: bob.identity.publicKey };

    const pong = await clock.runUntilSettled(
      alice.engine.request<PongMessage>(toBob, { type: MessageType.PING }),
    );
    expect(pong.message.observed).toEqual(alice.endpoint);
    expect(idToHex(pong.from.id)).toBe(idToHex(bob.identity.nodeId));
    expect(pong.rttMs).toBe(30);

    const target: NodeId = generateIdentity().nodeId;
    // Carol's first contact: the reply's two NODES parts go out within 3× her padded INIT.
    const reply: RpcReply<NodesMessage> = await clock.runUntilSettled(
      carol.engine.request<NodesMessage>(toBob, { type: MessageType.FIND_NODE, target }),
    );
    expect(reply.partial).toBe(false);
    expect(reply.message.contacts.map((c) => c.port)).toEqual(known.map((c) => c.port));

    const bootstrap = await clock.runUntilSettled(
      carol.engine.request<PongMessage>({ endpoint: alice.endpoint }, { type: MessageType.PING }),
    );
    expect(idToHex(bootstrap.from.id)).toBe(idToHex(alice.identity.nodeId));
    for (const node of [alice, bob, carol]) expect(node.engine.stats.timeouts).toBe(0);
  });
});

describe('EncryptedSessionLayer micro-benchmark (reported, not asserted)', () => {
  it('measures seal+open of a 200-byte DATA packet and full handshakes per second', () => {
    const clock = new VirtualClock();
    // Synchronous loopback transports: the benchmark measures crypto and bookkeeping, not timers.
    const bind = LinkedTransport.hub();
    const server: Identity = generateIdentity();
    const serverLayer = new EncryptedSessionLayer({
      transport: bind({ host: '10.9.0.1', port: 1 }),
      identity: server,
      clock,
      cookieMode: 'never',
    });
    serverLayer.onPayload((inbound) =>
      serverLayer.send({ endpoint: inbound.from, publicKey: inbound.publicKey }, inbound.payload),
    );
    const clients = Array.from({ length: 150 }, (_, i) => {
      const layer = new EncryptedSessionLayer({
        transport: bind({ host: '10.9.1.1', port: 100 + i }),
        identity: generateIdentity(),
        clock,
      });
      let answers = 0;
      layer.onPayload(() => answers++);
      return { layer, answered: () => answers };
    });
    const request = new Uint8Array(200).fill(7);
    const toServer = { endpoint: { host: '10.9.0.1', port: 1 }, publicKey: server.publicKey };
    const handshakeStart = performance.now();
    for (const client of clients) client.layer.send(toServer, request);
    const handshakeMs = performance.now() - handshakeStart;
    expect(clients.every((c) => c.answered() === 1)).toBe(true);

    const peer = new PeerEntry('bench', { host: '10.9.0.2', port: 2 }, server.publicKey);
    const keys = { initiatorToResponder: Buffer.alloc(32, 1), responderToInitiator: Buffer.alloc(32, 2) };
    const common = { peer, localIndex: 1, remoteIndex: 2, keys, remoteClientMode: false, createdAt: 0 };
    const sender = new TransportSession({ ...common, role: 'initiator' });
    const receiver = new TransportSession({ ...common, role: 'responder' });
    const rounds = 20_000;
    const payload = new Uint8Array(200).fill(3);
    const sealStart = performance.now();
    for (let counter = 0; counter < rounds; counter++) {
      const packet = sender.sealData(payload);
      if (receiver.replay.check(counter) !== 'ok' || receiver.openData(packet, counter) === undefined) {
        throw new Error('benchmark packet failed to open');
      }
      receiver.replay.mark(counter);
    }
    const sealOpenUs = ((performance.now() - sealStart) * 1000) / rounds;
    const perSecond = Math.round((clients.length * 1000) / handshakeMs);
    // Figures for the report; CI machines vary, so nothing is asserted about them.
    console.log(
      `encrypted session: seal+open 200 B = ${sealOpenUs.toFixed(2)} µs; ` +
        `full handshakes (both sides, first request + reply) = ${perSecond}/s; ` +
        `DH per handshake = ${(serverLayer.stats().dhOperations / clients.length).toFixed(0)} each side`,
    );
  });
});
