import { idToHex, randomId, type NodeId } from '../id/node-id';
import type { LookupOutcome } from '../lookup/lookup-runner';
import type { Contact } from '../routing/contact';
import { fakePublicKey } from '../routing/test/routing-fixtures';
import type { RpcReply } from '../rpc/pending-request';
import type { RequestBody, RequestOptions } from '../rpc/rpc-engine';
import { signRecord, type SignedRecord } from '../store/signed-records';
import { generateSigningKeyPair } from '../store/signing-keys';
import {
  MessageType,
  StoreStatus,
  type ResponseMessage,
  type SignedWireRecord,
  type StoreMessage,
  type WireRecord,
} from '../wire/messages';
import { findSignedRecord, type SignedReadPeerEvent, type SignedValueOpsContext } from './signed-value-ops';

const K = 4;
const publisher = generateSigningKeyPair();
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

function signed(seq: number, value = `v${seq}`): SignedWireRecord {
  const record: SignedRecord = signRecord({ privateKey: publisher.privateKey, value: text(value), seq });
  return { ...record, ttlSeconds: 3600 };
}
const KEY = signed(0).key;

let nextHost = 1;
function contact(): Contact {
  const id = randomId();
  return { id, publicKey: fakePublicKey(id), host: `198.51.100.${nextHost++ % 250}`, port: 6881 };
}
const tokenFor = (c: Contact): Uint8Array => new Uint8Array(16).fill(c.id[0]);
const reply = (from: Contact, message: ResponseMessage): RpcReply => ({
  message,
  from,
  rttMs: 5,
  partial: false,
});
const nodes = (from: Contact): RpcReply =>
  reply(from, {
    type: MessageType.NODES,
    requestId: 1,
    total: 1,
    part: 0,
    contacts: [],
    token: tokenFor(from),
  });
const value = (from: Contact, record: WireRecord): RpcReply =>
  reply(from, { type: MessageType.VALUE, requestId: 1, record, token: tokenFor(from) });

/** A context whose lookup replays scripted answers (stopping when told) and records STOREs and reports. */
function fakeContext(script: { answers: RpcReply[]; closest: Contact[]; withMinSeqLookup?: boolean }) {
  const stores: Array<{ to: Contact; body: StoreMessage; options: RequestOptions }> = [];
  const reports: Array<{ host: string; event: SignedReadPeerEvent }> = [];
  const lookups: Array<{ target: NodeId; minSeq?: number }> = [];
  let delivered = 0;
  const replay = async (
    input: Parameters<SignedValueOpsContext['lookup']>[0] & { minSeq?: number },
  ): Promise<LookupOutcome> => {
    lookups.push({ target: input.target, ...(input.minSeq !== undefined && { minSeq: input.minSeq }) });
    let finishReason: LookupOutcome['finishReason'] = 'converged';
    for (const answer of script.answers) {
      delivered++;
      if (input.onProgress({ from: answer.from, reply: answer, path: 0 }) === 'stop') {
        finishReason = 'stopped';
        break;
      }
    }
    const stats = { requests: delivered, responses: delivered, failures: 0, maxHops: 2 };
    return {
      target: input.target,
      kind: 'value',
      closest: script.closest,
      finishReason,
      durationMs: 1,
      ...stats,
      paths: [{ closest: script.closest, ...stats }],
    };
  };
  const ctx: SignedValueOpsContext = {
    k: K,
    rpcRetries: 0,
    now: () => 0,
    lookup: replay,
    ...(script.withMinSeqLookup && { lookupWithMinSeq: replay }),
    request: (to: Contact, body: RequestBody, options: RequestOptions) => {
      stores.push({ to, body: body as StoreMessage, options });
      return Promise.resolve(
        reply(to, { type: MessageType.STORE_ACK, requestId: 1, status: StoreStatus.OK }),
      );
    },
    reportPeer: (peer, event) => reports.push({ host: peer.host, event }),
  };
  return { ctx, stores, reports, lookups, delivered: () => delivered };
}

const hexes = (contacts: readonly Contact[]) => contacts.map((c) => idToHex(c.id)).sort();

describe('findSignedRecord', () => {
  it('returns the highest valid seq among all answers, not the first, and reads to the end', async () => {
    const [a, b, c, d] = [contact(), contact(), contact(), contact()];
    const { ctx, delivered } = fakeContext({
      answers: [value(a, signed(2)), value(b, signed(5)), value(c, signed(3)), nodes(d)],
      closest: [a, b, c, d],
    });
    const found = await findSignedRecord(ctx, { key: KEY });
    expect(found.record?.seq).toBe(5);
    expect(found.from).toBe(b);
    expect(found.validAnswers).toBe(3);
    expect(delivered()).toBe(4);
  });

  it('drops forged records and records for another key, and reports their senders', async () => {
    const [honest, forger, liar, wrongKey] = [contact(), contact(), contact(), contact()];
    const forged = { ...signed(9), value: text('evil') };
    const other = signRecord({ privateKey: generateSigningKeyPair().privateKey, value: text('x'), seq: 50 });
    const { ctx, reports } = fakeContext({
      answers: [
        value(forger, forged),
        value(liar, { ...signed(1), signature: new Uint8Array(64) }),
        value(wrongKey, { ...other, ttlSeconds: 60 }),
        value(honest, signed(1)),
      ],
      closest: [honest, forger, liar, wrongKey],
    });
    const found = await findSignedRecord(ctx, { key: KEY });
    expect([found.record?.seq, found.record?.value]).toEqual([1, text('v1')]);
    expect(found.invalidAnswers).toBe(3);
    expect(reports).toEqual([
      { host: forger.host, event: 'bad_signature' },
      { host: liar.host, event: 'bad_signature' },
      { host: wrongKey.host, event: 'out_of_range_record' },
    ]);
  });

  it('returns nothing when no node holds a valid version (an immutable squatter is no version)', async () => {
    const [a, b] = [contact(), contact()];
    const { ctx, stores } = fakeContext({
      answers: [value(a, { key: KEY, value: text('squat'), ttlSeconds: 60 }), nodes(b)],
      closest: [a, b],
    });
    const found = await findSignedRecord(ctx, { key: KEY });
    expect(found.record).toBeUndefined();
    expect(await found.repair).toEqual({ sent: 0, acknowledged: 0 });
    expect(stores).toEqual([]);
  });

  it('read-repairs those of the k closest that answered with an older version, an immutable record or nothing', async () => {
    const [newest, older, squatter, empty, liar, far] = [
      contact(),
      contact(),
      contact(),
      contact(),
      contact(),
      contact(),
    ];
    const { ctx, stores } = fakeContext({
      answers: [
        value(older, signed(1)),
        value(newest, signed(2)),
        value(squatter, { key: KEY, value: text('squat'), ttlSeconds: 60 }),
        nodes(empty),
        value(liar, { ...signed(7), value: text('evil') }),
        nodes(far),
      ],
      // k = 4: `liar` sent junk, and `empty` and `far` are not among the 4 closest: none gets the record.
      closest: [newest, older, liar, squatter, empty, far],
    });
    const found = await findSignedRecord(ctx, { key: KEY });
    expect(await found.repair).toEqual({ sent: 2, acknowledged: 2 });
    expect(hexes(stores.map((s) => s.to))).toEqual(hexes([older, squatter]));
    for (const store of stores) {
      expect(store.body.record).toEqual(signed(2));
      expect(store.body.token).toEqual(tokenFor(store.to));
    }
  });

  it('sends minSeq with the lookup and stops at the first answer that satisfies it', async () => {
    const [a, b, c] = [contact(), contact(), contact()];
    const { ctx, lookups, delivered } = fakeContext({
      answers: [value(a, signed(3)), value(b, signed(4)), value(c, signed(6))],
      closest: [a, b, c],
      withMinSeqLookup: true,
    });
    const found = await findSignedRecord(ctx, { key: KEY, minSeq: 4 });
    expect(lookups).toEqual([{ target: KEY, minSeq: 4 }]);
    expect(found.record?.seq).toBe(4);
    expect(found.lookup.finishReason).toBe('stopped');
    expect(delivered()).toBe(2);
  });

  it('applies minSeq to the answers when the lookup cannot carry it', async () => {
    const [a, b] = [contact(), contact()];
    const { ctx, lookups } = fakeContext({ answers: [value(a, signed(3)), nodes(b)], closest: [a, b] });
    const found = await findSignedRecord(ctx, { key: KEY, minSeq: 4 });
    expect(lookups).toEqual([{ target: KEY }]);
    expect(found.record).toBeUndefined();
  });

  it('counts a version we already hold, and repairs holders of older ones with it', async () => {
    const [a, b] = [contact(), contact()];
    const { ctx, stores } = fakeContext({ answers: [value(a, signed(2)), nodes(b)], closest: [a, b] });
    const found = await findSignedRecord(ctx, { key: KEY, known: signed(8) });
    expect(found.record?.seq).toBe(8);
    expect(found.from).toBeUndefined();
    await found.repair;
    expect(stores.map((s) => (s.body.record as SignedWireRecord).seq)).toEqual([8, 8]);
  });

  it('sends no STORE when read repair is off', async () => {
    const [a, b] = [contact(), contact()];
    const { ctx, stores } = fakeContext({ answers: [value(a, signed(2)), nodes(b)], closest: [a, b] });
    const found = await findSignedRecord(ctx, { key: KEY, readRepair: false });
    expect(found.record?.seq).toBe(2);
    expect(await found.repair).toEqual({ sent: 0, acknowledged: 0 });
    expect(stores).toEqual([]);
  });
});
