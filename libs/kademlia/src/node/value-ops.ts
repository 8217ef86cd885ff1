import { idEquals, idToHex, type NodeId } from '../id/node-id';
import type { LookupFinishReason, LookupOutcome, LookupProgress } from '../lookup/lookup-runner';
import { ValueQuorum, type ValueVerdict } from '../lookup/value-quorum';
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
  /**
   * Disjoint lookup paths (S/Kademlia); absent or 1 is standard mode, more is secure mode: stores go to every
   * path's closest and a found value must be backed by the paths (see ValueQuorum).
   */
  readonly paths?: number;
  readonly lookup: (options: {
    target: NodeId;
    kind: 'value';
    signal?: AbortSignal;
    paths?: number;
    onProgress: (progress: LookupProgress) => 'stop' | void;
  }) => Promise<LookupOutcome>;
  readonly request: (to: Contact, body: RequestBody, options: RequestOptions) => Promise<RpcReply>;
}

/**
 * Puts a record on the k closest nodes to its key: a FIND_VALUE lookup collects write tokens from the nodes it
 * meets, then each of the k closest that answered gets a STORE carrying its token. In secure mode (several
 * paths) the STOREs go to the union of the k closest overall and each path's own nearest share (see storeTargets).
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
    paths: ctx.paths,
    onProgress: ({ from, reply }) => {
      const token = tokenOf(reply);
      if (token) tokens.set(idToHex(from.id), token);
    },
  });
  const targets = storeTargets({ outcome, k: ctx.k, hasToken: (c) => tokens.has(idToHex(c.id)) });
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

/**
 * Where a secure-mode STORE goes: the k closest that answered with a token, plus each path's nearest
 * ceil(k / d) with a token. Sybils near the key can fill the merged k closest if one path met them, but not
 * every path's own share, so honest replicas land whatever the closest slots hold. Healthy paths' shares are
 * mostly inside the merged k already, so this costs a few STOREs more than k; never more than 2k + d.
 */
export function storeTargets(input: {
  outcome: LookupOutcome;
  k: number;
  hasToken: (contact: Contact) => boolean;
}): Contact[] {
  const { outcome, k, hasToken } = input;
  const targets = outcome.closest.filter(hasToken).slice(0, k);
  if (outcome.paths.length <= 1) return targets;
  const share = Math.ceil(k / outcome.paths.length);
  const chosen = new Set(targets.map((c) => idToHex(c.id)));
  for (const path of outcome.paths) {
    for (const contact of path.closest.filter(hasToken).slice(0, share)) {
      const id = idToHex(contact.id);
      if (chosen.has(id)) continue;
      chosen.add(id);
      targets.push(contact);
    }
  }
  return targets;
}

export interface FoundValue {
  readonly record: WireRecord;
  /** The nearest node to the key that returned the chosen value. */
  readonly from: Contact;
  /** How the lookup backed it: nodes and paths that returned it, and rival values (among the counted answers). */
  readonly agreement: Pick<ValueVerdict, 'paths' | 'responders' | 'rivals'>;
  readonly lookup: LookupOutcome;
}

/**
 * Looks a key up and returns its record. With one path that is the first valid record any node returns (early
 * return). With several paths (secure mode) the lookup runs until its paths converge and the value is chosen
 * among the answers of the k closest nodes it found, by how many of them (then how many disjoint paths) return it
 * (see ValueQuorum for why: keys name values rather than hash them, and plain records are unsigned, so a liar's
 * value can only be told from the holders' by who returns it and where they sit). Then caches the record on the closest
 * node of the lookup that answered without it, with a TTL halved for every closer node that answered, so copies
 * far from the key die sooner (Kademlia paper §2.3).
 */
export async function findRecord(
  ctx: ValueOpsContext,
  input: { key: NodeId; signal?: AbortSignal },
): Promise<FoundValue | undefined> {
  const quorum = new ValueQuorum({ key: input.key, paths: ctx.paths ?? 1 });
  const lacking = new Map<string, { contact: Contact; token: Uint8Array }>();
  const outcome = await ctx.lookup({
    target: input.key,
    kind: 'value',
    signal: input.signal,
    paths: ctx.paths,
    onProgress: ({ from, reply, path }) => {
      const message = reply.message;
      if (message.type === MessageType.VALUE) {
        // A record for another key is a lie or a bug: ignore it and keep looking.
        if (!idEquals(message.record.key, input.key)) return;
        return quorum.add({ record: message.record, from, path });
      }
      const token = tokenOf(reply);
      if (token) lacking.set(idToHex(from.id), { contact: from, token });
    },
  });
  const verdict = quorum.verdict(outcome.closest);
  if (!verdict) return undefined;
  cacheOnPath(ctx, { record: verdict.record, closest: outcome.closest, lacking });
  const { record, from, paths, responders, rivals } = verdict;
  return { record, from, agreement: { paths, responders, rivals }, lookup: outcome };
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
