import { DEFAULTS } from '../config/defaults';
import { randomId, type NodeId } from '../id/node-id';
import { RoutingTable } from '../routing/routing-table';
import { fakePublicKey } from '../routing/test/routing-fixtures';
import { INIT_OVERHEAD_BYTES } from '../session/encrypted-packets';
import type { InboundPayload } from '../session/session-layer';
import { VirtualClock } from '../sim/virtual-clock';
import { RecordStore } from '../store/record-store';
import { signRecord, type SignedRecord } from '../store/signed-records';
import { generateSigningKeyPair } from '../store/signing-keys';
import { WriteTokens } from '../store/write-tokens';
import { encodeMessage } from '../wire/codec';
import {
  MessageType,
  StoreStatus,
  type ResponseMessage,
  type SignedWireRecord,
  type WireRecord,
} from '../wire/messages';
import { createRequestHandler, type HandlerPeerEvent } from './request-handlers';

/** The encrypted layer's payload budget: every reply must fit it. */
const MAX_PAYLOAD = DEFAULTS.maxPacketBytes - INIT_OVERHEAD_BYTES;
const FROM = { host: '203.0.113.9', port: 5555 };
const publisher = generateSigningKeyPair();
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

function setup() {
  const clock = new VirtualClock({ startMs: 1_000_000 });
  const now = () => clock.now();
  const localId = randomId();
  const store = new RecordStore({ now });
  const tokens = new WriteTokens({ now });
  const reports: Array<{ host: string; event: HandlerPeerEvent }> = [];
  const stored: WireRecord[] = [];
  const handle = createRequestHandler({
    localId,
    table: new RoutingTable({ localId, now }),
    store,
    tokens,
    clock,
    k: DEFAULTS.k,
    maxPayloadBytes: MAX_PAYLOAD,
    self: () => undefined,
    onStored: (record) => stored.push(record),
    reportPeer: (sender, event) => reports.push({ host: sender.from.host, event }),
  });
  const sender = (from = FROM): InboundPayload => {
    const id = randomId();
    return { from, publicKey: fakePublicKey(id), nodeId: id, clientMode: false, payload: new Uint8Array(0) };
  };
  const storeStatus = (record: WireRecord, token = tokens.issue(FROM)): StoreStatus => {
    const reply = handle(
      { type: MessageType.STORE, requestId: 21, token, record },
      sender(),
    ) as ResponseMessage;
    if (reply.type !== MessageType.STORE_ACK) throw new Error(`expected STORE_ACK, got ${reply.type}`);
    return reply.status;
  };
  const findValue = (key: NodeId, minSeq?: number): ResponseMessage => {
    const reply = handle(
      { type: MessageType.FIND_VALUE, requestId: 11, key, ...(minSeq !== undefined && { minSeq }) },
      sender(),
    );
    const list = Array.isArray(reply) ? reply : [reply];
    expect(list).toHaveLength(1);
    // Whatever we answer must fit one encrypted packet.
    expect(encodeMessage(list[0]).length).toBeLessThanOrEqual(MAX_PAYLOAD);
    return list[0];
  };
  return { clock, store, tokens, handle, storeStatus, findValue, reports, stored };
}

function signed(seq: number, value = `v${seq}`, salt = ''): SignedRecord {
  return signRecord({ privateKey: publisher.privateKey, value: text(value), seq, salt: text(salt) });
}

const wire = (record: SignedRecord, ttlSeconds = 3600): SignedWireRecord => ({ ...record, ttlSeconds });

describe('request handler: signed records', () => {
  describe('STORE', () => {
    it('answers OK to a valid signed record and to a newer version, and keeps the newest', () => {
      const { storeStatus, store, stored } = setup();
      expect(storeStatus(wire(signed(1)))).toBe(StoreStatus.OK);
      expect(storeStatus(wire(signed(2)))).toBe(StoreStatus.OK);
      expect(store.get(signed(1).key)?.signed?.seq).toBe(2);
      expect(stored.map((r) => (r as SignedWireRecord).seq)).toEqual([1, 2]);
    });

    it('answers SEQ_TOO_LOW to an older version and SEQ_REUSED to the held seq with another value', () => {
      const { storeStatus, store, reports } = setup();
      storeStatus(wire(signed(5)));
      expect(storeStatus(wire(signed(4)))).toBe(StoreStatus.SEQ_TOO_LOW);
      expect(storeStatus(wire(signed(5, 'other')))).toBe(StoreStatus.SEQ_REUSED);
      expect(store.get(signed(5).key)?.value).toEqual(text('v5'));
      // An honest holder that missed an update sends old versions: no reputation penalty.
      expect(reports).toEqual([]);
    });

    it('answers OK to the same version again (a republish) and extends its lifetime', async () => {
      const { storeStatus, store, clock } = setup();
      storeStatus(wire(signed(1), 600));
      await clock.advance(300_000);
      expect(storeStatus(wire(signed(1), 3600))).toBe(StoreStatus.OK);
      expect(store.get(signed(1).key)?.expiresAt).toBe(clock.now() + 3_600_000);
    });

    it('answers BAD_SIGNATURE to a forged record, stores nothing and reports the sender', () => {
      const { storeStatus, store, reports } = setup();
      const good = signed(1);
      const forgeries: SignedWireRecord[] = [
        { ...wire(good), value: text('evil') },
        { ...wire(good), seq: 2 },
        { ...wire(good), signature: new Uint8Array(64).fill(1) },
        { ...wire(good), key: randomId() },
        { ...wire(good), publicKey: new Uint8Array(32), signature: new Uint8Array(64) },
      ];
      for (const forged of forgeries) expect(storeStatus(forged)).toBe(StoreStatus.BAD_SIGNATURE);
      expect(store.size).toBe(0);
      expect(reports).toEqual(forgeries.map(() => ({ host: FROM.host, event: 'bad_signature' })));
    });

    it('answers BAD_RECORD to an immutable record under a signed key, keeping the signed one', () => {
      const { storeStatus, store, reports } = setup();
      const record = signed(1);
      storeStatus(wire(record));
      expect(storeStatus({ key: record.key, value: text('squat'), ttlSeconds: 3600 })).toBe(
        StoreStatus.BAD_RECORD,
      );
      expect(store.get(record.key)?.signed?.seq).toBe(1);
      expect(reports).toEqual([{ host: FROM.host, event: 'out_of_range_record' }]);
    });

    it('lets a signed record replace an immutable one under its key', () => {
      const { storeStatus, store } = setup();
      const record = signed(1);
      expect(storeStatus({ key: record.key, value: text('squat'), ttlSeconds: 3600 })).toBe(StoreStatus.OK);
      expect(storeStatus(wire(record))).toBe(StoreStatus.OK);
      expect(store.get(record.key)?.value).toEqual(text('v1'));
    });

    it('checks the token before the signature, and reports a bad token', () => {
      const { storeStatus, reports, store } = setup();
      const forged = { ...wire(signed(1)), value: text('evil') };
      expect(storeStatus(forged, new Uint8Array(16))).toBe(StoreStatus.BAD_TOKEN);
      expect(reports).toEqual([{ host: FROM.host, event: 'invalid_token' }]);
      expect(store.stats().rejected.bad_signature).toBe(0);
    });

    it('reports a record with a TTL of 0 as out of range', () => {
      const { storeStatus, reports } = setup();
      expect(storeStatus(wire(signed(1), 0))).toBe(StoreStatus.BAD_RECORD);
      expect(reports).toEqual([{ host: FROM.host, event: 'out_of_range_record' }]);
    });
  });

  describe('FIND_VALUE', () => {
    it('answers VALUE with the whole signed record, as it was stored', () => {
      const { storeStatus, findValue } = setup();
      const record = signed(3, 'hello', 'profile');
      storeStatus(wire(record));
      const reply = findValue(record.key);
      expect(reply).toMatchObject({ type: MessageType.VALUE, record: { ...record, ttlSeconds: 3600 } });
    });

    it('answers NODES with a token when the held version is older than minSeq, VALUE when it is not', () => {
      const { storeStatus, findValue, tokens } = setup();
      storeStatus(wire(signed(3)));
      const older = findValue(signed(3).key, 4);
      expect(older.type).toBe(MessageType.NODES);
      if (older.type !== MessageType.NODES) throw new Error('unreachable');
      expect(tokens.verify(FROM, older.token!)).toBe(true);
      expect(findValue(signed(3).key, 3)).toMatchObject({ type: MessageType.VALUE, record: { seq: 3 } });
      expect(findValue(signed(3).key, 0)).toMatchObject({ type: MessageType.VALUE, record: { seq: 3 } });
    });

    it('ignores minSeq for an immutable record', () => {
      const { storeStatus, findValue } = setup();
      const key = randomId();
      storeStatus({ key, value: text('plain'), ttlSeconds: 60 });
      expect(findValue(key, 1_000)).toMatchObject({
        type: MessageType.VALUE,
        record: { value: text('plain') },
      });
    });

    it('fits the largest signed record into one encrypted packet', () => {
      const { storeStatus, findValue } = setup();
      const largest = signRecord({
        privateKey: publisher.privateKey,
        value: new Uint8Array(836).fill(7),
        seq: Number.MAX_SAFE_INTEGER,
        salt: new Uint8Array(64).fill(1),
      });
      expect(storeStatus(wire(largest, DEFAULTS.maxRecordTtlMs / 1000))).toBe(StoreStatus.OK);
      expect(findValue(largest.key)).toMatchObject({ type: MessageType.VALUE });
    });
  });
});
