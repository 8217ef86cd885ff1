import { idToHex, randomId, type NodeId } from '../id/node-id';
import type { LookupOutcome, LookupProgress } from '../lookup/lookup-runner';
import type { Contact } from '../routing/contact';
import { fakePublicKey } from '../routing/test/routing-fixtures';
import type { RpcReply } from '../rpc/pending-request';
import type { RequestBody, RequestOptions } from '../rpc/rpc-engine';
import {
  MessageType,
  StoreStatus,
  type ResponseMessage,
  type StoreMessage,
  type WireRecord,
} from '../wire/messages';
import { findRecord, putToClosest, type ValueOpsContext } from './value-ops';

const K = 4;
const RETRIES = 2;

let nextHost = 1;
function contact(): Contact {
  const id = randomId();
  return { id, publicKey: fakePublicKey(id), host: `198.51.100.${nextHost++ % 250}`, port: 6881 };
}

function tokenFor(c: Contact): Uint8Array {
  return new Uint8Array(16).fill(c.id[0]);
}

function reply(from: Contact, message: ResponseMessage): RpcReply {
  return { message, from, rttMs: 10, partial: false };
}

const nodes = (from: Contact, token?: Uint8Array): RpcReply =>
  reply(from, {
    type: MessageType.NODES,
    requestId: 1,
    total: 1,
    part: 0,
    contacts: [],
    ...(token && { token }),
  });

const valueReply = (from: Contact, record: WireRecord): RpcReply =>
  reply(from, { type: MessageType.VALUE, requestId: 1, record, token: tokenFor(from) });

const ack = (from: Contact, status: StoreStatus): RpcReply =>
  reply(from, { type: MessageType.STORE_ACK, requestId: 1, status });

/**
 * A ValueOpsContext whose lookup replays scripted answers in order (stopping when onProgress says so) and whose
 * request() answers STOREs from a per-contact script. Every call is recorded.
 */
function fakeContext(script: {
  answers: RpcReply[];
  closest: Contact[];
  storeAnswer?: (to: Contact) => Promise<RpcReply>;
}) {
  const lookups: Array<{ target: NodeId; kind: string; signal?: AbortSignal }> = [];
  const delivered: LookupProgress[] = [];
  const stores: Array<{ to: Contact; body: StoreMessage; options: RequestOptions }> = [];
  const ctx: ValueOpsContext = {
    k: K,
    rpcRetries: RETRIES,
    now: () => 0,
    lookup: async ({ target, kind, signal, onProgress }) => {
      lookups.push({ target, kind, signal });
      let finishReason: LookupOutcome['finishReason'] = 'converged';
      for (const answer of script.answers) {
        const progress = { from: answer.from, reply: answer };
        delivered.push(progress);
        if (onProgress(progress) === 'stop') {
          finishReason = 'stopped';
          break;
        }
      }
      return {
        target,
        kind,
        closest: script.closest,
        finishReason,
        durationMs: 5,
        requests: script.answers.length + 2,
        responses: delivered.length,
        failures: 0,
        maxHops: 2,
      };
    },
    request: (to: Contact, body: RequestBody, options: RequestOptions) => {
      expect(body.type).toBe(MessageType.STORE);
      stores.push({ to, body: body as StoreMessage, options });
      return script.storeAnswer ? script.storeAnswer(to) : Promise.resolve(ack(to, StoreStatus.OK));
    },
  };
  return { ctx, lookups, delivered, stores };
}

function record(ttlSeconds = 3600, key: NodeId = randomId()): WireRecord {
  return { key, value: new TextEncoder().encode('payload'), ttlSeconds };
}

const hexes = (contacts: Contact[]) => contacts.map((c) => idToHex(c.id));

describe('putToClosest', () => {
  it('runs a value lookup for the key and stores on the closest that gave a token, each with its own token', async () => {
    const [a, b, c, d] = [contact(), contact(), contact(), contact()];
    const { ctx, lookups, stores } = fakeContext({
      // c answered without a token (a plain FIND_NODE-style reply); d never answered.
      answers: [nodes(a, tokenFor(a)), nodes(c), nodes(b, tokenFor(b))],
      closest: [c, b, d, a],
    });
    const signal = new AbortController().signal;
    const rec = record();
    const report = await putToClosest(ctx, { record: rec, signal });

    expect(lookups).toEqual([{ target: rec.key, kind: 'value', signal }]);
    expect(hexes(stores.map((s) => s.to))).toEqual(hexes([b, a]));
    for (const store of stores) {
      expect(store.body).toEqual({ type: MessageType.STORE, token: tokenFor(store.to), record: rec });
      expect(store.options).toEqual({ retries: RETRIES, signal });
    }
    expect(report).toEqual({
      key: rec.key,
      acknowledged: 2,
      attempted: 2,
      statuses: { ok: 2 },
      lookup: { finishReason: 'converged', requests: 5 },
    });
  });

  it('takes write tokens from VALUE answers too', async () => {
    const holder = contact();
    const rec = record();
    const { ctx, stores } = fakeContext({ answers: [valueReply(holder, rec)], closest: [holder] });
    const report = await putToClosest(ctx, { record: rec });
    expect(hexes(stores.map((s) => s.to))).toEqual(hexes([holder]));
    expect(report.acknowledged).toBe(1);
  });

  it('stores on at most k nodes, the closest first', async () => {
    const all = Array.from({ length: K + 3 }, contact);
    const { ctx, stores } = fakeContext({ answers: all.map((c) => nodes(c, tokenFor(c))), closest: all });
    const report = await putToClosest(ctx, { record: record() });
    expect(hexes(stores.map((s) => s.to))).toEqual(hexes(all.slice(0, K)));
    expect(report.attempted).toBe(K);
  });

  it('counts the answers per status, failures as no_answer', async () => {
    const peers = Array.from({ length: K }, contact);
    const outcome: Array<(to: Contact) => Promise<RpcReply>> = [
      (to) => Promise.resolve(ack(to, StoreStatus.OK)),
      (to) => Promise.resolve(ack(to, StoreStatus.STORE_FULL)),
      () => Promise.reject(new Error('timeout')),
      (to) => Promise.resolve(ack(to, StoreStatus.BAD_TOKEN)),
    ];
    const { ctx } = fakeContext({
      answers: peers.map((c) => nodes(c, tokenFor(c))),
      closest: peers,
      storeAnswer: (to) => outcome[peers.findIndex((p) => p === to)](to),
    });
    const report = await putToClosest(ctx, { record: record() });
    expect(report.acknowledged).toBe(1);
    expect(report.attempted).toBe(K);
    expect(report.statuses).toEqual({ ok: 1, store_full: 1, no_answer: 1, bad_token: 1 });
  });

  it('names every store status in lower case', async () => {
    const statuses = [
      StoreStatus.OK,
      StoreStatus.BAD_TOKEN,
      StoreStatus.STORE_FULL,
      StoreStatus.TOO_LARGE,
      StoreStatus.QUOTA_EXCEEDED,
    ];
    const peers = statuses.map(contact);
    const { ctx } = fakeContext({
      answers: peers.map((c) => nodes(c, tokenFor(c))),
      closest: peers,
      storeAnswer: (to) => Promise.resolve(ack(to, statuses[peers.indexOf(to)])),
    });
    const report = await putToClosest({ ...ctx, k: statuses.length }, { record: record() });
    expect(report.statuses).toEqual({ ok: 1, bad_token: 1, store_full: 1, too_large: 1, quota_exceeded: 1 });
  });

  it('reports nothing attempted when no node gave a token', async () => {
    const a = contact();
    const { ctx, stores } = fakeContext({ answers: [nodes(a)], closest: [a] });
    const report = await putToClosest(ctx, { record: record() });
    expect(stores).toEqual([]);
    expect(report).toMatchObject({ acknowledged: 0, attempted: 0, statuses: {} });
  });
});

describe('findRecord', () => {
  it('returns the first VALUE for the key and stops the lookup there', async () => {
    const [a, holder, late] = [contact(), contact(), contact()];
    const key = randomId();
    const rec = record(3600, key);
    const { ctx, delivered, lookups } = fakeContext({
      answers: [nodes(a), valueReply(holder, rec), valueReply(late, record(3600, key))],
      closest: [holder, a],
    });
    const found = await findRecord(ctx, { key });
    expect(lookups[0]).toMatchObject({ target: key, kind: 'value' });
    expect(found?.record).toBe(rec);
    expect(found?.from).toBe(holder);
    expect(found?.lookup.finishReason).toBe('stopped');
    expect(delivered).toHaveLength(2);
  });

  it('ignores a VALUE carrying another key and keeps looking', async () => {
    const [liar, honest] = [contact(), contact()];
    const key = randomId();
    const wrong = record(3600, randomId());
    const right = record(3600, key);
    const { ctx, delivered } = fakeContext({
      answers: [valueReply(liar, wrong), valueReply(honest, right)],
      closest: [liar, honest],
    });
    const found = await findRecord(ctx, { key });
    expect(found?.record).toBe(right);
    expect(found?.from).toBe(honest);
    expect(delivered).toHaveLength(2);
  });

  it('returns undefined and stores nothing when no node holds the value', async () => {
    const [a, b] = [contact(), contact()];
    const { ctx, stores } = fakeContext({
      answers: [nodes(a, tokenFor(a)), nodes(b, tokenFor(b))],
      closest: [a, b],
    });
    await expect(findRecord(ctx, { key: randomId() })).resolves.toBeUndefined();
    expect(stores).toEqual([]);
  });

  it('returns undefined when the only VALUE answers carry other keys', async () => {
    const liar = contact();
    const { ctx, stores } = fakeContext({ answers: [valueReply(liar, record())], closest: [liar] });
    await expect(findRecord(ctx, { key: randomId() })).resolves.toBeUndefined();
    expect(stores).toEqual([]);
  });

  it('caches a copy on the closest node that answered without the value, with the full TTL at rank 0', async () => {
    const [near, far, holder] = [contact(), contact(), contact()];
    const key = randomId();
    const rec = record(3600, key);
    const { ctx, stores } = fakeContext({
      answers: [nodes(far, tokenFor(far)), nodes(near, tokenFor(near)), valueReply(holder, rec)],
      closest: [near, holder, far],
    });
    await findRecord(ctx, { key });
    expect(stores).toHaveLength(1);
    expect(stores[0].to).toBe(near);
    expect(stores[0].body).toEqual({ type: MessageType.STORE, token: tokenFor(near), record: rec });
    expect(stores[0].options).toEqual({ retries: 0 });
  });

  it('halves the cached TTL for every closer node', async () => {
    for (const rank of [1, 2, 5]) {
      const key = randomId();
      const closer = Array.from({ length: rank }, contact);
      const lacking = contact();
      const rec = record(3601, key);
      const { ctx, stores } = fakeContext({
        // The closer nodes answered without a token, so only `lacking` can take a cache copy.
        answers: [
          ...closer.map((c) => nodes(c)),
          nodes(lacking, tokenFor(lacking)),
          valueReply(contact(), rec),
        ],
        closest: [...closer, lacking],
      });
      await findRecord(ctx, { key });
      expect(stores).toHaveLength(1);
      expect(stores[0].to).toBe(lacking);
      expect(stores[0].body.record).toEqual({ ...rec, ttlSeconds: Math.floor(3601 / 2 ** rank) });
    }
  });

  it('skips the cache copy when its TTL would round down to zero', async () => {
    const key = randomId();
    const [closer, lacking] = [contact(), contact()];
    const { ctx, stores } = fakeContext({
      answers: [nodes(closer), nodes(lacking, tokenFor(lacking)), valueReply(contact(), record(1, key))],
      closest: [closer, lacking],
    });
    expect(await findRecord(ctx, { key })).toBeDefined();
    expect(stores).toEqual([]);
  });

  it('does not cache on a node that answered after the value was found', async () => {
    const key = randomId();
    const [holder, afterwards] = [contact(), contact()];
    const { ctx, stores } = fakeContext({
      answers: [valueReply(holder, record(3600, key)), nodes(afterwards, tokenFor(afterwards))],
      closest: [afterwards, holder],
    });
    await findRecord(ctx, { key });
    expect(stores).toEqual([]);
  });

  it('resolves with the value even when the cache STORE fails', async () => {
    const key = randomId();
    const lacking = contact();
    const rec = record(3600, key);
    const { ctx, stores } = fakeContext({
      answers: [nodes(lacking, tokenFor(lacking)), valueReply(contact(), rec)],
      closest: [lacking],
      storeAnswer: () => Promise.reject(new Error('timeout')),
    });
    const found = await findRecord(ctx, { key });
    expect(found?.record).toBe(rec);
    expect(stores).toHaveLength(1);
    // Let the rejected fire-and-forget STORE settle: it must be handled, not reported as unhandled.
    await new Promise((resolve) => setImmediate(resolve));
  });
});
