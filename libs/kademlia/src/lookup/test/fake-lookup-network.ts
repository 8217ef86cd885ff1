import { KademliaError } from '../../errors';
import { compareDistance, ID_BYTES, idToHex, sharedPrefixLength, type NodeId } from '../../id/node-id';
import type { Contact } from '../../routing/contact';
import type { RpcReply } from '../../rpc/pending-request';
import type { RequestBody, RequestOptions } from '../../rpc/rpc-engine';
import { createRandom } from '../../sim/random';
import { VirtualClock } from '../../sim/virtual-clock';
import { MessageType } from '../../wire/messages';
import type { LookupRunOptions } from '../lookup-runner';

/**
 * A fake network for lookup-runner specs driven by a VirtualClock: every peer answers FIND_NODE with the k
 * closest live contacts it knows (Kademlia-shaped knowledge: up to k peers per shared-prefix bucket; stale dead
 * entries come on top), after its own latency; dead peers fail after a timeout; slow ones answer late. Seeded, so
 * every run is identical.
 */
export const N = 200;
export const K = 8;
export const DEAD_TIMEOUT_MS = 100;
export const SLOW_AFTER_MS = 150;
/** What one NODES message carries at most. */
export const MAX_CONTACTS_PER_ANSWER = 20;

export type PeerKind = 'fast' | 'slow' | 'dead';

export interface FakePeer {
  readonly contact: Contact;
  kind: PeerKind;
  latencyMs: number;
  readonly known: Contact[];
}

/** One request the lookup sent, and how it ended for the fake network. */
export interface RequestRecord {
  readonly to: FakePeer;
  readonly sentAt: number;
  readonly signal?: AbortSignal;
  end?: 'answered' | 'timeout' | 'aborted';
}

export function randomIdFrom(random: () => number): NodeId {
  const id = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) id[i] = Math.floor(random() * 256);
  return id;
}

export function byDistanceTo(target: NodeId) {
  return (a: Contact, b: Contact) => compareDistance(target, a.id, b.id);
}

export function hexes(contacts: readonly Contact[]): string[] {
  return contacts.map((c) => idToHex(c.id));
}

export class FakeNetwork {
  readonly peers: FakePeer[] = [];
  readonly log: RequestRecord[] = [];
  /** Peers in the order their answers were delivered. */
  readonly answeredBy: FakePeer[] = [];
  private readonly byId = new Map<string, FakePeer>();

  constructor(
    private readonly clock: VirtualClock,
    readonly random: () => number,
  ) {
    for (let i = 0; i < N; i++) {
      const id = randomIdFrom(random);
      const contact: Contact = {
        id,
        publicKey: new Uint8Array(32).fill(i & 0xff),
        host: `10.0.${i >> 8}.${i & 0xff}`,
        port: 6881,
      };
      const peer: FakePeer = { contact, kind: 'fast', latencyMs: 10 + Math.floor(random() * 40), known: [] };
      this.peers.push(peer);
      this.byId.set(idToHex(id), peer);
    }
    // Kademlia-shaped knowledge: up to K peers of each shared-prefix bucket, chosen in a seeded order.
    for (const peer of this.peers) {
      const buckets = new Map<number, number>();
      for (const other of this.shuffled()) {
        if (other === peer) continue;
        const bucket = sharedPrefixLength(peer.contact.id, other.contact.id);
        const size = buckets.get(bucket) ?? 0;
        if (size >= K) continue;
        buckets.set(bucket, size + 1);
        peer.known.push(other.contact);
      }
    }
  }

  peer(contact: Contact): FakePeer {
    const peer = this.byId.get(idToHex(contact.id));
    if (!peer) throw new Error('unknown peer');
    return peer;
  }

  /** Peers nearest to target first. */
  ranked(target: NodeId): FakePeer[] {
    return [...this.peers].sort((a, b) => compareDistance(target, a.contact.id, b.contact.id));
  }

  /** The true k closest peers that can answer. */
  trueClosest(target: NodeId, k = K): Contact[] {
    return this.ranked(target)
      .filter((p) => p.kind !== 'dead')
      .slice(0, k)
      .map((p) => p.contact);
  }

  pick(count: number, filter: (peer: FakePeer) => boolean): FakePeer[] {
    return this.shuffled().filter(filter).slice(0, count);
  }

  /** The `request` a lookup gets: honours the signal, onSlow and the peer's kind, all on virtual time. */
  readonly request = (to: Contact, body: RequestBody, options: RequestOptions): Promise<RpcReply> => {
    const peer = this.peer(to);
    const record: RequestRecord = { to: peer, sentAt: this.clock.now(), signal: options.signal };
    this.log.push(record);
    return new Promise<RpcReply>((resolve, reject) => {
      const { signal } = options;
      if (signal?.aborted) {
        record.end = 'aborted';
        reject(new KademliaError('request aborted', 'RPC_ABORTED'));
        return;
      }
      const timers = [] as ReturnType<VirtualClock['setTimeout']>[];
      const end = (how: NonNullable<RequestRecord['end']>) => {
        record.end = how;
        for (const timer of timers) this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        end('aborted');
        reject(new KademliaError('request aborted', 'RPC_ABORTED'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const { onSlow, slowAfterMs } = options;
      if (onSlow && slowAfterMs !== undefined) timers.push(this.clock.setTimeout(onSlow, slowAfterMs));
      if (peer.kind === 'dead') {
        timers.push(
          this.clock.setTimeout(() => {
            end('timeout');
            reject(new KademliaError('no answer', 'RPC_TIMEOUT'));
          }, DEAD_TIMEOUT_MS),
        );
        return;
      }
      // FIND_VALUE is answered like FIND_NODE: the fake peers hold no values.
      const target =
        body.type === MessageType.FIND_NODE
          ? body.target
          : body.type === MessageType.FIND_VALUE
            ? body.key
            : undefined;
      if (!target) throw new Error('the fake network only answers FIND_NODE and FIND_VALUE');
      timers.push(
        this.clock.setTimeout(() => {
          end('answered');
          this.answeredBy.push(peer);
          const contacts = this.answer(peer, target);
          resolve({
            message: { type: MessageType.NODES, requestId: 0, total: 1, part: 0, contacts },
            from: peer.contact,
            rttMs: peer.latencyMs,
            partial: false,
          });
        }, peer.latencyMs),
      );
    });
  };

  /**
   * The peer's closest known contacts until K of them are live: dead ones it still lists (stale entries) come
   * on top, so the lookup meets failures without losing the information a healthy network would give it.
   */
  answer(peer: FakePeer, target: NodeId): Contact[] {
    const out: Contact[] = [];
    let live = 0;
    for (const contact of [...peer.known].sort(byDistanceTo(target))) {
      if (live >= K || out.length >= MAX_CONTACTS_PER_ANSWER) break;
      out.push(contact);
      if (this.peer(contact).kind !== 'dead') live++;
    }
    return out;
  }

  private shuffled(): FakePeer[] {
    const out = [...this.peers];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

export function setup(seed = 7) {
  const clock = new VirtualClock();
  const random = createRandom(seed);
  const net = new FakeNetwork(clock, random);
  const options = (overrides: Partial<LookupRunOptions> & { target: NodeId }): LookupRunOptions => ({
    kind: 'node',
    seeds: net.pick(3, (p) => p.kind !== 'dead').map((p) => p.contact),
    localId: randomIdFrom(random),
    k: K,
    alpha: 3,
    maxRpcs: 120,
    deadlineMs: 10_000,
    clock,
    request: net.request,
    slowAfterMs: () => SLOW_AFTER_MS,
    ...overrides,
  });
  return { clock, net, random, options, newTarget: () => randomIdFrom(random) };
}

/** Observes a promise at once, so a rejection while the clock runs is never reported as unhandled. */
export function capture<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}
