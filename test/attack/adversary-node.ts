import { randomBytes } from 'node:crypto';
import { sha1 } from '@noble/hashes/sha1';
import type { Clock } from '../../libs/kademlia/src/clock';
import { generateIdentity, type Identity } from '../../libs/kademlia/src/id/identity';
import {
  compareDistance,
  idEquals,
  sharedPrefixLength,
  type NodeId,
} from '../../libs/kademlia/src/id/node-id';
import { runLookup } from '../../libs/kademlia/src/lookup/lookup-runner';
import type { Contact } from '../../libs/kademlia/src/routing/contact';
import { RoutingTable } from '../../libs/kademlia/src/routing/routing-table';
import type { RpcReply } from '../../libs/kademlia/src/rpc/pending-request';
import { RpcEngine, type RequestBody, type RequestOptions } from '../../libs/kademlia/src/rpc/rpc-engine';
import { PeerTimeouts } from '../../libs/kademlia/src/rpc/rtt-estimator';
import { EncryptedSessionLayer } from '../../libs/kademlia/src/session/encrypted-session';
import { PlaintextSessionLayer } from '../../libs/kademlia/src/session/plaintext-session';
import type { InboundPayload, SessionLayer } from '../../libs/kademlia/src/session/session-layer';
import type { MemoryNetwork } from '../../libs/kademlia/src/transport/memory-network';
import type { Endpoint } from '../../libs/kademlia/src/transport/transport';
import {
  MessageType,
  StoreStatus,
  type RequestMessage,
  type ResponseMessage,
} from '../../libs/kademlia/src/wire/messages';
import { packNodes } from '../../libs/kademlia/src/wire/nodes-packing';

/**
 * A malicious DHT node for the attack simulations, built from the library's own parts (memory transport,
 * plaintext session layer, RPC engine, routing table, lookup runner) with a request handler of its own: the node
 * façade has no hook to swap its handler, and an adversary needs none of its maintenance.
 *
 * Until `turn()` it behaves (answers from its routing table) so that it joins and spreads through honest tables
 * like any node. After it, it answers FIND_NODE / FIND_VALUE by its strategy, acknowledges every STORE and keeps
 * nothing, and optionally answers FIND_VALUE with a forged value (the same one from every forger):
 * - `far`: the k contacts it knows that are farthest from the target (real, but useless);
 * - `fake`: contacts that do not exist, nearer the target than any real node (from a pool ground up front),
 *   padded with far ones: every one costs the asker a timeout and pushes real candidates down its list;
 * - `coalition`: only other adversaries, nearest the target first: a lookup that follows them stays among them.
 */
export type AdversaryStrategy = 'far' | 'fake' | 'coalition';

export interface CoalitionOptions {
  /**
   * Made-up identities ground once, up front (an attacker's offline work): with 2^18 of them the 128 nearest to
   * any target share about 11 bits or more with it, as near as the nearest real nodes of a few-thousand-node
   * network, and many nearer.
   */
  readonly fakePool: number;
  /** Fake contacts in one answer: a fresh random draw from the pool's 128 nearest to the target. */
  readonly fakesPerAnswer: number;
  /** Where fake contacts claim to be: addresses nothing listens on. */
  readonly fakeHost: (n: number) => string;
  readonly random: () => number;
}

/** What the adversaries share: who they are, and a pool of fake contacts (IDs sorted, for nearest-ID search). */
export class Coalition {
  readonly members: AdversaryNode[] = [];
  private readonly pool: Contact[];

  constructor(readonly options: CoalitionOptions) {
    this.pool = [];
    for (let n = 0; n < options.fakePool; n++) {
      const publicKey = new Uint8Array(32);
      for (let i = 0; i < 32; i++) publicKey[i] = Math.floor(options.random() * 256);
      this.pool.push({ id: sha1(publicKey), publicKey, host: options.fakeHost(n), port: 6881 });
    }
    this.pool.sort((a, b) => Buffer.compare(a.id, b.id));
  }

  /** The n members nearest to target, other than `exclude`. */
  nearestMembers(target: NodeId, n: number, exclude?: NodeId): Contact[] {
    return nearest(
      target,
      this.members.map((m) => m.contact).filter((c) => !exclude || !idEquals(c.id, exclude)),
      n,
    );
  }

  /**
   * Fake contacts near target, a different draw each time (so they cost every asker new timeouts): IDs sharing a
   * long prefix with the target sit next to it in sorted order, so the window around its insertion point holds
   * the pool's nearest ones.
   */
  fakesFor(target: NodeId): Contact[] {
    let lo = 0;
    let hi = this.pool.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare(this.pool[mid].id, target) < 0) lo = mid + 1;
      else hi = mid;
    }
    const near = nearest(target, this.pool.slice(Math.max(0, lo - 128), lo + 128), 128);
    const out: Contact[] = [];
    while (out.length < this.options.fakesPerAnswer && near.length > 0) {
      out.push(near.splice(Math.floor(this.options.random() * near.length), 1)[0]);
    }
    return out;
  }
}

/**
 * An identity whose NodeId shares at least `bits` leading bits with target, for plaintext sessions only: they
 * carry the sender's public key unproven and never use the private key, so grinding is SHA-1 of made-up keys
 * (about 2^bits hashes). Against encrypted sessions each try would cost an X25519 key pair instead, and the ID
 * puzzle (idPuzzleDifficulty) multiplies that: the cost S/Kademlia puts on choosing where to sit.
 */
export function groundPlaintextIdentity(input: {
  target: NodeId;
  bits: number;
  random: () => number;
}): Identity {
  const publicKey = new Uint8Array(32);
  for (;;) {
    for (let i = 0; i < 32; i++) publicKey[i] = Math.floor(input.random() * 256);
    const nodeId = sha1(publicKey);
    if (sharedPrefixLength(nodeId, input.target) >= input.bits) {
      return { publicKey: publicKey.slice(), nodeId, privateKey: unusedPrivateKey() };
    }
  }
}

let placeholderKey: Identity['privateKey'] | undefined;
// Plaintext sessions never read the private key; one real key object stands in for all ground identities.
function unusedPrivateKey(): Identity['privateKey'] {
  placeholderKey ??= generateIdentity().privateKey;
  return placeholderKey;
}

function nearest(target: NodeId, contacts: readonly Contact[], n: number): Contact[] {
  return [...contacts].sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, n);
}

export interface AdversaryNodeOptions {
  readonly network: MemoryNetwork;
  readonly clock: Clock;
  readonly endpoint: Endpoint;
  readonly coalition: Coalition;
  readonly strategy: AdversaryStrategy;
  /** Answer FIND_VALUE with a made-up value instead of contacts. */
  readonly forgeValues?: boolean;
  /** A chosen (e.g. ground) identity; generated otherwise. */
  readonly identity?: Identity;
  /** Must match the honest nodes' session layer. */
  readonly sessions?: 'plaintext' | 'encrypted';
  readonly k?: number;
}

const K = 20;

export class AdversaryNode {
  readonly identity: Identity;
  readonly strategy: AdversaryStrategy;
  private readonly transport;
  private readonly session: SessionLayer;
  private readonly rpc: RpcEngine;
  private readonly table: RoutingTable;
  private readonly k: number;
  private malicious = false;
  /** STOREs acknowledged and thrown away. */
  swallowed = 0;

  constructor(private readonly options: AdversaryNodeOptions) {
    this.identity = options.identity ?? generateIdentity();
    this.strategy = options.strategy;
    this.k = options.k ?? K;
    this.transport = options.network.createTransport(options.endpoint);
    const layer = { transport: this.transport, identity: this.identity };
    this.session =
      options.sessions === 'encrypted'
        ? new EncryptedSessionLayer({ ...layer, clock: options.clock })
        : new PlaintextSessionLayer(layer);
    this.table = new RoutingTable({ localId: this.identity.nodeId, now: () => options.clock.now() });
    this.rpc = new RpcEngine({
      session: this.session,
      clock: options.clock,
      timeouts: new PeerTimeouts(),
      maxInflight: 512,
      handleRequest: (request, sender) => this.answer(request, sender),
      onPeerActivity: (sender) =>
        this.table.observe({
          id: sender.nodeId,
          publicKey: sender.publicKey,
          host: sender.from.host,
          port: sender.from.port,
        }),
    });
    options.coalition.members.push(this);
  }

  get contact(): Contact {
    const { host, port } = this.options.endpoint;
    return { id: this.identity.nodeId, publicKey: this.identity.publicKey, host, port };
  }

  get tableSize(): number {
    return this.table.size();
  }

  /** Joins like a node: pings the bootstrap entries, then looks itself up through them. */
  async start(bootstrap: readonly Endpoint[]): Promise<void> {
    await this.transport.listen();
    const seeds: Contact[] = [];
    for (const endpoint of bootstrap) {
      const reply = await this.rpc
        .request({ endpoint }, { type: MessageType.PING }, { retries: 1 })
        .catch(() => undefined);
      if (reply) seeds.push(reply.from);
    }
    await this.lookup(this.identity.nodeId, seeds);
  }

  /** Looks a target up through its table (what makes far nodes learn it exists). */
  async lookup(
    target: NodeId,
    seeds: readonly Contact[] = this.table.closest(target, this.k),
  ): Promise<Contact[]> {
    const outcome = await runLookup({
      target,
      kind: 'node',
      seeds,
      localId: this.identity.nodeId,
      k: this.k,
      alpha: 3,
      maxRpcs: 60,
      deadlineMs: 10_000,
      clock: this.options.clock,
      request: (to, body, options) => this.request(to, body, options),
      slowAfterMs: () => 500,
    });
    return outcome.closest;
  }

  /** Sends one request (e.g. a PING flood); failures are the caller's to ignore. */
  request(to: Contact, body: RequestBody, options: RequestOptions = {}): Promise<RpcReply> {
    return this.rpc.request({ endpoint: to, publicKey: to.publicKey }, body, options);
  }

  /** From now on, lie. */
  turn(): void {
    this.malicious = true;
  }

  async stop(): Promise<void> {
    this.rpc.close();
    this.session.close();
    await this.transport.close();
  }

  private answer(
    request: RequestMessage,
    sender: InboundPayload,
  ): ResponseMessage | readonly ResponseMessage[] {
    const requestId = request.requestId;
    switch (request.type) {
      case MessageType.PING:
        return { type: MessageType.PONG, requestId, observed: sender.from };
      case MessageType.FIND_NODE:
        return this.nodes(requestId, this.contactsFor(request.target, sender.nodeId));
      case MessageType.FIND_NODE_BY_DISTANCE:
        return this.nodes(requestId, []);
      case MessageType.FIND_VALUE: {
        const token = randomBytes(16);
        if (this.malicious && this.options.forgeValues) {
          // Forgers collude: all return the same forged value for a key, so their answers add up.
          const value = new TextEncoder().encode(`forged ${Buffer.from(request.key).toString('hex')}`);
          return {
            type: MessageType.VALUE,
            requestId,
            record: { key: request.key, value, ttlSeconds: 3600 },
            token,
          };
        }
        return this.nodes(requestId, this.contactsFor(request.key, sender.nodeId), token);
      }
      case MessageType.STORE:
        // Acknowledged, never kept: the publisher believes it has one more replica than it has.
        this.swallowed++;
        return { type: MessageType.STORE_ACK, requestId, status: StoreStatus.OK };
    }
  }

  private contactsFor(target: NodeId, requester: NodeId): Contact[] {
    if (!this.malicious) {
      return this.table.closest(target, this.k, (e) => !idEquals(e.id, requester)).map(wireContact);
    }
    const coalition = this.options.coalition;
    switch (this.strategy) {
      case 'coalition':
        return coalition.nearestMembers(target, this.k, this.identity.nodeId);
      case 'fake': {
        const fakes = coalition.fakesFor(target);
        return [...fakes, ...this.farthest(target, this.k - fakes.length)];
      }
      case 'far':
        return this.farthest(target, this.k);
    }
  }

  private farthest(target: NodeId, n: number): Contact[] {
    return [...this.table.entries()]
      .sort((a, b) => compareDistance(target, b.id, a.id))
      .slice(0, Math.max(0, n))
      .map(wireContact);
  }

  private nodes(requestId: number, contacts: Contact[], token?: Uint8Array): ResponseMessage[] {
    return packNodes({ requestId, contacts, token, maxPayloadBytes: this.session.maxPayloadBytes });
  }
}

function wireContact(c: Contact): Contact {
  return { id: c.id, publicKey: c.publicKey, host: c.host, port: c.port };
}
