import { idEquals, idToHex, type NodeId } from '../id/node-id';
import type { LookupFinishReason, LookupOutcome, LookupProgress } from '../lookup/lookup-runner';
import type { Contact } from '../routing/contact';
import type { RpcReply } from '../rpc/pending-request';
import type { RequestBody, RequestOptions } from '../rpc/rpc-engine';
import { MessageType, StoreStatus, type WireRecord } from '../wire/messages';

/** What store() resolves with. */
export interface StoreReport {
  /** The DHT key the value went under (SHA-1 of the application key). */
  readonly key: NodeId;
  /** Nodes that acknowledged the STORE. */
  readonly acknowledged: number;
  /** Nodes a STORE was sent to (the k closest that answered the lookup with a write token). */
  readonly attempted: number;
  /** Per-status counts of the answers, e.g. { ok: 20 } or { ok: 18, store_full: 2 }. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly lookup: { readonly finishReason: LookupFinishReason; readonly requests: number };
}

/** What value operations need from the node; a narrow surface keeps them testable. */
export interface ValueOpsContext {
  readonly k: number;
  readonly rpcRetries: number;
  readonly now: () => number;
  readonly lookup: (options: {
    target: NodeId;
    kind: 'value';
    signal?: AbortSignal;
    onProgress: (progress: LookupProgress) => 'stop' | void;
  }) => Promise<LookupOutcome>;
  readonly request: (to: Contact, body: RequestBody, options: RequestOptions) => Promise<RpcReply>;
}

/**
 * Puts a record on the k closest nodes to its key: a FIND_VALUE lookup collects write tokens from the nodes it
 * meets, then each of the k closest that answered gets a STORE carrying its token.
 */
export async function putToClosest(
  ctx: ValueOpsContext,
  input: { record: WireRecord; signal?: AbortSignal },
): Promise<StoreReport> {
  const tokens = new Map<string, Uint8Array>();
  const outcome = await ctx.lookup({
    target: input.record.key,
    kind: 'value',
    signal: input.signal,
    onProgress: ({ from, reply }) => {
      const token = tokenOf(reply);
      if (token) tokens.set(idToHex(from.id), token);
    },
  });
  const targets = outcome.closest.filter((c) => tokens.has(idToHex(c.id))).slice(0, ctx.k);
  const statuses: Record<string, number> = {};
  const answers = await Promise.allSettled(
    targets.map((contact) =>
      ctx.request(
        contact,
        { type: MessageType.STORE, token: tokens.get(idToHex(contact.id))!, record: input.record },
        { retries: ctx.rpcRetries, signal: input.signal },
      ),
    ),
  );
  let acknowledged = 0;
  for (const answer of answers) {
    const status =
      answer.status === 'fulfilled' && answer.value.message.type === MessageType.STORE_ACK
        ? StoreStatus[answer.value.message.status].toLowerCase()
        : 'no_answer';
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === 'ok') acknowledged++;
  }
  return {
    key: input.record.key,
    acknowledged,
    attempted: targets.length,
    statuses,
    lookup: { finishReason: outcome.finishReason, requests: outcome.requests },
  };
}

export interface FoundValue {
  readonly record: WireRecord;
  readonly from: Contact;
  readonly lookup: LookupOutcome;
}

/**
 * Looks a key up and returns the first valid record any node returns (early return). Then caches it on the closest
 * node of the path that answered without it, with a TTL halved for every closer node that answered, so copies far
 * from the key die sooner (Kademlia paper §2.3).
 */
export async function findRecord(
  ctx: ValueOpsContext,
  input: { key: NodeId; signal?: AbortSignal },
): Promise<FoundValue | undefined> {
  let found: { record: WireRecord; from: Contact } | undefined;
  const lacking = new Map<string, { contact: Contact; token: Uint8Array }>();
  const outcome = await ctx.lookup({
    target: input.key,
    kind: 'value',
    signal: input.signal,
    onProgress: ({ from, reply }) => {
      const message = reply.message;
      if (message.type === MessageType.VALUE) {
        // A record for another key is a lie or a bug: ignore it and keep looking.
        if (!idEquals(message.record.key, input.key)) return;
        found = { record: message.record, from };
        return 'stop';
      }
      const token = tokenOf(reply);
      if (token) lacking.set(idToHex(from.id), { contact: from, token });
    },
  });
  if (!found) return undefined;
  cacheOnPath(ctx, { record: found.record, closest: outcome.closest, lacking });
  return { ...found, lookup: outcome };
}

function cacheOnPath(
  ctx: ValueOpsContext,
  input: {
    record: WireRecord;
    closest: readonly Contact[];
    lacking: ReadonlyMap<string, { contact: Contact; token: Uint8Array }>;
  },
): void {
  const rank = input.closest.findIndex((c) => input.lacking.has(idToHex(c.id)));
  if (rank < 0) return;
  const target = input.lacking.get(idToHex(input.closest[rank].id))!;
  const ttlSeconds = Math.floor(input.record.ttlSeconds / 2 ** rank);
  if (ttlSeconds < 1) return;
  // Fire and forget: the caller already has its value; a lost cache copy costs nothing.
  ctx
    .request(
      target.contact,
      { type: MessageType.STORE, token: target.token, record: { ...input.record, ttlSeconds } },
      { retries: 0 },
    )
    .catch(() => undefined);
}

function tokenOf(reply: RpcReply): Uint8Array | undefined {
  const message = reply.message;
  if (message.type === MessageType.NODES) return message.token;
  if (message.type === MessageType.VALUE) return message.token;
  return undefined;
}
