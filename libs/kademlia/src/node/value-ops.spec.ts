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

/** A scripted answer: a reply on path 0, or one tagged with the disjoint path that got it. */
type ScriptedAnswer = RpcReply | { reply: RpcReply; path: number };

/**
 * A ValueOpsContext whose lookup replays scripted answers in order (stopping when onProgress says so) and whose
 * request() answers STOREs from a per-contact script. `paths` (secure mode) sets ctx.paths and the outcome's
 * per-path results. Every call is recorded.
 */
function fakeContext(script: {
  answers: ScriptedAnswer[];
  closest: Contact[];
  paths?: Contact[][];
  storeAnswer?: (to: Contact) => Promise<RpcReply>;
}) {
  const lookups: Array<{ target: NodeId; kind: string; signal?: AbortSignal; paths?: number }> = [];
  const delivered: LookupProgress[] = [];
  const stores: Array<{ to: Contact; body: StoreMessage; options: RequestOptions }> = [];
  const pathResults = script.paths ?? [script.closest];
  const ctx: ValueOpsContext = {
    k: K,
    rpcRetries: RETRIES,
    now: () => 0,
    ...(script.paths && { paths: script.paths.length }),
    lookup: async ({ target, kind, signal, paths, onProgress }) => {
      lookups.push({ target, kind, signal, ...(paths !== undefined && { paths }) });
      let finishReason: LookupOutcome['finishReason'] = 'converged';
      for (const answer of script.answers) {
        const progress =
          'reply' in answer
            ? { from: answer.reply.from, reply: answer.reply, path: answer.path }
            : { from: answer.from, reply: answer, path: 0 };
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
        paths: pathResults.map((closest) => ({
          closest,
          requests: 1,
          responses: 1,
          failures: 0,
          maxHops: 1,
        })),
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

/** A contact whose ID is `key` with bit `bit` flipped: the larger `bit`, the nearer to key. */
function contactNear(key: NodeId, bit: number): Contact {
  const id = new Uint8Array(key);
  id[bit >> 3] ^= 0x80 >> (bit & 7);
  return { id, publicKey: fakePublicKey(id), host: `198.51.100.${nextHost++ % 250}`, port: 6881 };
}

const onPath = (path: number, reply: RpcReply) => ({ reply, path });

function recordWith(key: NodeId, text: string): WireRecord {
  return { key, value: new TextEncoder().encode(text), ttlSeconds: 3600 };
}

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

describe('putToClosest in secure mode (disjoint paths)', () => {
  it('passes the paths to the lookup', async () => {
    const a = contact();
    const { ctx, lookups } = fakeContext({
      answers: [nodes(a, tokenFor(a))],
      closest: [a],
      paths: [[a], []],
    });
    await putToClosest(ctx, { record: record() });
    expect(lookups[0].paths).toBe(2);
  });

  it("also stores on each path's nearest share, so Sybils holding the k closest cannot take every replica", async () => {
    // Path 0 met four Sybils nearer than anyone; path 1 only found honest nodes, farther out.
    const sybils = Array.from({ length: K }, contact);
    const honest = Array.from({ length: 3 }, contact);
    const all = [...sybils, ...honest];
    const { ctx, stores } = fakeContext({
      answers: all.map((c) => nodes(c, tokenFor(c))),
      closest: sybils,
      paths: [sybils, honest],
    });
    const report = await putToClosest(ctx, { record: record() });
    // k = 4 over 2 paths: each path's nearest 2 are added to the merged 4.
    expect(hexes(stores.map((s) => s.to))).toEqual(hexes([...sybils, honest[0], honest[1]]));
    expect(report.attempted).toBe(K + 2);
  });

  it("adds nothing when the paths' shares are already among the k closest", async () => {
    const peers = Array.from({ length: K }, contact);
    const { ctx, stores } = fakeContext({
      answers: peers.map((c) => nodes(c, tokenFor(c))),
      closest: peers,
      paths: [
        [peers[0], peers[2]],
        [peers[1], peers[3]],
      ],
    });
    await putToClosest(ctx, { record: record() });
    expect(hexes(stores.map((s) => s.to))).toEqual(hexes(peers));
  });

  it('skips path members that gave no token', async () => {
    const [a, b, c] = [contact(), contact(), contact()];
    const { ctx, stores } = fakeContext({
      answers: [nodes(a, tokenFor(a)), nodes(b), nodes(c, tokenFor(c))],
      closest: [a],
      paths: [[a], [b, c]],
    });
    await putToClosest(ctx, { record: record() });
    expect(hexes(stores.map((s) => s.to))).toEqual(hexes([a, c]));
  });
});

describe('findRecord in secure mode (disjoint paths)', () => {
  const fourPaths = [[], [], [], []] as Contact[][];
  const text = (found: { record: WireRecord } | undefined) => new TextDecoder().decode(found?.record.value);

  it('does not stop at the first value: the lookup runs to its end and the k closest decide', async () => {
    const key = randomId();
    const [liar, h1, h2] = [contact(), contact(), contact()];
    const { ctx, delivered, lookups } = fakeContext({
      answers: [
        onPath(0, valueReply(liar, recordWith(key, 'forged'))),
        onPath(1, valueReply(h1, recordWith(key, 'real'))),
        onPath(2, valueReply(h2, recordWith(key, 'real'))),
      ],
      closest: [h1, h2],
      paths: fourPaths,
    });
    const found = await findRecord(ctx, { key });
    expect(lookups[0].paths).toBe(4);
    expect(delivered).toHaveLength(3);
    expect(found?.lookup.finishReason).toBe('converged');
    expect(text(found)).toBe('real');
    // The liar is not among the k closest: its answer is not counted at all.
    expect(found?.agreement).toEqual({ paths: 2, responders: 2, rivals: 0 });
  });

  it('ignores values from nodes outside the k closest, whatever number of paths they came on', async () => {
    const key = randomId();
    const liars = Array.from({ length: 4 }, contact);
    const holder = contact();
    const { ctx } = fakeContext({
      answers: [
        ...liars.map((liar, i) => onPath(i, valueReply(liar, recordWith(key, 'forged')))),
        onPath(3, valueReply(holder, recordWith(key, 'real'))),
      ],
      closest: [holder, contact()],
      paths: fourPaths,
    });
    const found = await findRecord(ctx, { key });
    expect(text(found)).toBe('real');
    expect(found?.from).toBe(holder);
  });

  it('returns undefined when only nodes outside the k closest returned a value', async () => {
    const key = randomId();
    const liar = contact();
    const { ctx } = fakeContext({
      answers: [onPath(0, valueReply(liar, recordWith(key, 'forged')))],
      closest: [contact()],
      paths: fourPaths,
    });
    await expect(findRecord(ctx, { key })).resolves.toBeUndefined();
  });

  it('among the k closest, the value most nodes returned wins, even when a rival came on more paths', async () => {
    // The path that reached the key first claimed most holders; two liars among the k closest sat on two others.
    const key = randomId();
    const [h1, h2, h3, l1, l2] = Array.from({ length: 5 }, contact);
    const { ctx } = fakeContext({
      answers: [
        onPath(0, valueReply(h1, recordWith(key, 'real'))),
        onPath(0, valueReply(h2, recordWith(key, 'real'))),
        onPath(0, valueReply(h3, recordWith(key, 'real'))),
        onPath(1, valueReply(l1, recordWith(key, 'forged'))),
        onPath(2, valueReply(l2, recordWith(key, 'forged'))),
      ],
      closest: [h1, l1, h2, l2, h3],
      paths: fourPaths,
    });
    const found = await findRecord(ctx, { key });
    expect(text(found)).toBe('real');
    expect(found?.agreement).toEqual({ paths: 1, responders: 3, rivals: 1 });
  });

  it('breaks a tie on nodes by the number of paths, then by the holder nearest to the key', async () => {
    const key = randomId();
    const far = contactNear(key, 3);
    const near = contactNear(key, 60);
    const middle = contactNear(key, 10);
    const other = contactNear(key, 20);
    // One node and one path each: the value held nearer to the key wins, and `from` is that holder.
    const tie = fakeContext({
      answers: [
        onPath(0, valueReply(far, recordWith(key, 'A'))),
        onPath(1, valueReply(near, recordWith(key, 'B'))),
      ],
      closest: [near, far],
      paths: fourPaths,
    });
    const byDistance = await findRecord(tie.ctx, { key });
    expect(text(byDistance)).toBe('B');
    expect(byDistance?.from).toBe(near);
    // Two nodes each, but A's came on two paths and B's on one: A wins despite B's nearer holder, and is
    // reported by its nearest holder.
    const byPaths = fakeContext({
      answers: [
        onPath(0, valueReply(far, recordWith(key, 'A'))),
        onPath(1, valueReply(middle, recordWith(key, 'A'))),
        onPath(2, valueReply(near, recordWith(key, 'B'))),
        onPath(2, valueReply(other, recordWith(key, 'B'))),
      ],
      closest: [near, other, middle, far],
      paths: fourPaths,
    });
    const found = await findRecord(byPaths.ctx, { key });
    expect(text(found)).toBe('A');
    expect(found?.from).toBe(middle);
  });
});
