import fc from 'fast-check';
import {
  compareDistance,
  ID_BYTES,
  idEquals,
  idToHex,
  randomId,
  sharedPrefixLength,
  type NodeId,
} from '../id/node-id';
import type { Contact } from '../routing/contact';
import { RoutingTable } from '../routing/routing-table';
import { ContactFactory, fakePublicKey, hexOf, idAtPrefixLength } from '../routing/test/routing-fixtures';
import type { RequestHandler } from '../rpc/rpc-engine';
import type { InboundPayload } from '../session/session-layer';
import { PLAIN_HEADER_BYTES } from '../session/plaintext-session';
import { VirtualClock } from '../sim/virtual-clock';
import { RecordStore, type RecordOrigin, type RecordStoreOptions } from '../store/record-store';
import { WriteTokens } from '../store/write-tokens';
import { DEFAULTS } from '../config/defaults';
import { encodeMessage } from '../wire/codec';
import {
  MessageType,
  StoreStatus,
  type NodesMessage,
  type RequestMessage,
  type ResponseMessage,
  type WireRecord,
} from '../wire/messages';
import { createRequestHandler, isResponsibleFor } from './request-handlers';

const MAX_PAYLOAD = DEFAULTS.maxPacketBytes - PLAIN_HEADER_BYTES;
const REQUESTER_ADDRESS = { host: '203.0.113.9', port: 5555 };

interface Setup {
  localId?: NodeId;
  k?: number;
  maxPayloadBytes?: number;
  store?: Partial<RecordStoreOptions>;
  /** Bootstrap role: the buffer's closest verified contacts. */
  bootstrapClosest?: (target: NodeId, k: number, requester: NodeId) => Contact[];
}

function setup(options: Setup = {}) {
  const clock = new VirtualClock({ startMs: 1_000_000 });
  const now = () => clock.now();
  const localId = options.localId ?? randomId();
  const table = new RoutingTable({ localId, now });
  const store = new RecordStore({ now, ...options.store });
  const tokens = new WriteTokens({ now });
  const contacts = new ContactFactory();
  const selfContact: Contact = {
    id: localId,
    publicKey: fakePublicKey(localId),
    host: '192.0.2.1',
    port: 6881,
  };
  const stored: Array<{ record: WireRecord; sender: InboundPayload; origin: RecordOrigin }> = [];
  const handle: RequestHandler = createRequestHandler({
    localId,
    table,
    store,
    tokens,
    clock,
    k: options.k ?? DEFAULTS.k,
    maxPayloadBytes: options.maxPayloadBytes ?? MAX_PAYLOAD,
    self: () => selfContact,
    onStored: (record, sender, origin) => stored.push({ record, sender, origin }),
    bootstrapClosest: options.bootstrapClosest,
  });
  const add = (id: NodeId): Contact => {
    const contact = contacts.contact(id);
    table.observe(contact);
    return contact;
  };
  return { clock, localId, table, store, tokens, handle, add, stored, selfContact };
}

function sender(id: NodeId = randomId(), from = REQUESTER_ADDRESS): InboundPayload {
  return { from, publicKey: fakePublicKey(id), nodeId: id, clientMode: false, payload: new Uint8Array(0) };
}

function parts(reply: ResponseMessage | readonly ResponseMessage[] | undefined): NodesMessage[] {
  const list = reply === undefined ? [] : Array.isArray(reply) ? reply : [reply as ResponseMessage];
  for (const message of list) expect(message.type).toBe(MessageType.NODES);
  return list as NodesMessage[];
}

function single(reply: ResponseMessage | readonly ResponseMessage[] | undefined): ResponseMessage {
  expect(reply).toBeDefined();
  expect(Array.isArray(reply)).toBe(false);
  return reply as ResponseMessage;
}

function contactsOf(reply: ResponseMessage | readonly ResponseMessage[] | undefined): Contact[] {
  return parts(reply).flatMap((p) => [...p.contacts]);
}

/** The brute-force answer: every live entry passing the filter, sorted by distance, the first n. */
function oracleClosest(table: RoutingTable, target: NodeId, n: number, keep: (c: Contact) => boolean) {
  return [...table.entries()]
    .filter(keep)
    .sort((a, b) => compareDistance(target, a.id, b.id))
    .slice(0, n);
}

const value = (text: string) => new TextEncoder().encode(text);

describe('createRequestHandler', () => {
  describe('in bootstrap role', () => {
    it('answers FIND_NODE with the k closest of table and buffer together, each ID once', () => {
      const buffer: Contact[] = [];
      const factory = new ContactFactory();
      const { handle, add } = setup({
        k: 8,
        bootstrapClosest: (target, k) =>
          [...buffer].sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, k),
      });
      const inTable = Array.from({ length: 10 }, () => add(randomId()));
      for (let i = 0; i < 30; i++) buffer.push(factory.contact(randomId()));
      buffer.push(inTable[0], inTable[1]); // the buffer also knows some table entries
      const target = randomId();
      const answer = contactsOf(handle({ type: MessageType.FIND_NODE, requestId: 1, target }, sender()));
      const everyone = [...inTable, ...buffer.slice(0, 30)];
      const truth = everyone.sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, 8);
      expect(answer.map((c) => idToHex(c.id))).toEqual(truth.map((c) => idToHex(c.id)));
    });
  });

  describe('PING', () => {
    it('answers PONG with the same request ID and the address the request came from', () => {
      const { handle } = setup();
      const from = { host: '2001:db8::77', port: 40_001 };
      expect(handle({ type: MessageType.PING, requestId: 42 }, sender(randomId(), from))).toEqual({
        type: MessageType.PONG,
        requestId: 42,
        observed: from,
      });
    });
  });

  describe('FIND_NODE', () => {
    it('returns the k closest live entries, excluding the requester and entries that failed', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
          const { handle, add, table } = setup();
          const ids = Array.from({ length: 120 }, randomId);
          ids.forEach(add);
          const present = [...table.entries()];
          const requester = present[seed % present.length].id;
          const failing = present.filter((_, i) => i % 7 === seed % 7).map((e) => e.id);
          for (const id of failing) table.recordFailure(id);
          const target = randomId();

          const reply = handle({ type: MessageType.FIND_NODE, requestId: 9, target }, sender(requester));
          const got = contactsOf(reply);
          const expected = oracleClosest(
            table,
            target,
            DEFAULTS.k,
            (e) => !idEquals(e.id, requester) && !failing.some((f) => idEquals(f, e.id)),
          );
          expect(hexOf(got)).toEqual(hexOf(expected));
          expect(got).toHaveLength(Math.min(DEFAULTS.k, expected.length));
          for (const part of parts(reply)) expect(part.requestId).toBe(9);
        }),
        { numRuns: 15 },
      );
    });

    it('hands out plain contacts (id, key, address), not routing-table entries', () => {
      const { handle, add } = setup();
      add(randomId());
      const [contact] = contactsOf(
        handle({ type: MessageType.FIND_NODE, requestId: 1, target: randomId() }, sender()),
      );
      expect(Object.keys(contact).sort()).toEqual(['host', 'id', 'port', 'publicKey']);
    });

    it('answers one empty NODES message from an empty table', () => {
      const { handle } = setup();
      const reply = parts(
        handle({ type: MessageType.FIND_NODE, requestId: 3, target: randomId() }, sender()),
      );
      expect(reply).toEqual([{ type: MessageType.NODES, requestId: 3, total: 1, part: 0, contacts: [] }]);
    });

    it('splits a reply into parts that each fit maxPayloadBytes, keeping order', () => {
      const maxPayloadBytes = 400;
      const { handle, add, table } = setup({ maxPayloadBytes });
      for (let i = 0; i < 200; i++) add(randomId());
      const target = randomId();
      const reply = parts(handle({ type: MessageType.FIND_NODE, requestId: 77, target }, sender()));
      expect(reply.length).toBeGreaterThan(1);
      for (const [index, part] of reply.entries()) {
        expect(part.total).toBe(reply.length);
        expect(part.part).toBe(index);
        expect(encodeMessage(part).length).toBeLessThanOrEqual(maxPayloadBytes);
      }
      const all = reply.flatMap((p) => [...p.contacts]);
      expect(hexOf(all)).toEqual(hexOf(table.closest(target, DEFAULTS.k)));
    });

    it('fits a full reply of k IPv4 contacts into one packet at the real payload limit', () => {
      const { handle, add } = setup();
      for (let i = 0; i < 200; i++) add(randomId());
      const reply = parts(
        handle({ type: MessageType.FIND_NODE, requestId: 0xffffffff, target: randomId() }, sender()),
      );
      expect(reply).toHaveLength(1);
      expect(reply[0].contacts).toHaveLength(DEFAULTS.k);
      expect(encodeMessage(reply[0]).length).toBeLessThanOrEqual(MAX_PAYLOAD);
    });
  });

  describe('FIND_NODE_BY_DISTANCE', () => {
    const distanceOf = (localId: NodeId, id: NodeId) => ID_BYTES * 8 - sharedPrefixLength(localId, id);

    it('returns our own contact for distance 0', () => {
      const { handle, add, localId, selfContact } = setup();
      add(idAtPrefixLength(localId, 0));
      const got = contactsOf(
        handle({ type: MessageType.FIND_NODE_BY_DISTANCE, requestId: 1, distances: [0] }, sender()),
      );
      expect(got).toEqual([selfContact]);
    });

    it('returns exactly the entries at the asked log distances', () => {
      const { handle, add, localId } = setup();
      const at = (distance: number, tail: number) =>
        add(idAtPrefixLength(localId, ID_BYTES * 8 - distance, new Uint8Array([tail])));
      const far = [at(160, 1), at(160, 2), at(160, 3)];
      const near = [at(150, 1), at(150, 2)];
      at(159, 1);
      at(140, 1);

      const got = contactsOf(
        handle({ type: MessageType.FIND_NODE_BY_DISTANCE, requestId: 2, distances: [160, 150] }, sender()),
      );
      expect(new Set(hexOf(got))).toEqual(new Set(hexOf([...far, ...near])));
      for (const contact of got) expect([160, 150]).toContain(distanceOf(localId, contact.id));

      const none = contactsOf(
        handle({ type: MessageType.FIND_NODE_BY_DISTANCE, requestId: 3, distances: [1, 2, 3] }, sender()),
      );
      expect(none).toEqual([]);
    });

    it('leaves out the requester and entries that failed, as FIND_NODE does', () => {
      const { handle, add, localId, table } = setup();
      const at160 = (tail: number) => add(idAtPrefixLength(localId, 0, new Uint8Array([tail])));
      const [kept, requester, failing] = [at160(1), at160(2), at160(3)];
      table.recordFailure(failing.id);

      const got = contactsOf(
        handle(
          { type: MessageType.FIND_NODE_BY_DISTANCE, requestId: 6, distances: [160] },
          sender(requester.id),
        ),
      );
      expect(hexOf(got)).toEqual(hexOf([kept]));
    });

    it('returns at most k contacts, our own included', () => {
      const k = 5;
      const { handle, add, localId, selfContact } = setup({ k });
      for (let i = 0; i < 12; i++) add(idAtPrefixLength(localId, 0, new Uint8Array([i * 16 + 1, i])));
      const far = contactsOf(
        handle({ type: MessageType.FIND_NODE_BY_DISTANCE, requestId: 4, distances: [160] }, sender()),
      );
      expect(far).toHaveLength(k);
      for (const contact of far) expect(distanceOf(localId, contact.id)).toBe(160);

      const withSelf = contactsOf(
        handle({ type: MessageType.FIND_NODE_BY_DISTANCE, requestId: 5, distances: [0, 160] }, sender()),
      );
      expect(withSelf).toHaveLength(k);
      expect(withSelf[0]).toEqual(selfContact);
    });
  });

  describe('FIND_VALUE', () => {
    it('answers VALUE with the record, its remaining TTL, and a write token for the sender', async () => {
      const { handle, store, clock, tokens } = setup();
      const key = randomId();
      store.put({ key, value: value('hello'), ttlMs: 60_000, origin: 'replica', sourceIp: '198.51.100.1' });
      await clock.advance(10_500);
      const reply = single(handle({ type: MessageType.FIND_VALUE, requestId: 11, key }, sender()));
      expect(reply).toMatchObject({
        type: MessageType.VALUE,
        requestId: 11,
        record: { key, value: value('hello'), ttlSeconds: 50 },
      });
      if (reply.type !== MessageType.VALUE) throw new Error('unreachable');
      expect(tokens.verify(REQUESTER_ADDRESS, reply.token)).toBe(true);
      expect(tokens.verify({ ...REQUESTER_ADDRESS, port: 1 }, reply.token)).toBe(false);
    });

    it('answers NODES closest to the key, with a write token, when the value is not held', () => {
      const { handle, add, tokens, table } = setup();
      for (let i = 0; i < 60; i++) add(randomId());
      const key = randomId();
      const requester = [...table.entries()][0].id;
      const reply = parts(handle({ type: MessageType.FIND_VALUE, requestId: 12, key }, sender(requester)));
      expect(reply).toHaveLength(1);
      expect(tokens.verify(REQUESTER_ADDRESS, reply[0].token!)).toBe(true);
      expect(hexOf(reply[0].contacts)).toEqual(
        hexOf(oracleClosest(table, key, DEFAULTS.k, (e) => !idEquals(e.id, requester))),
      );
    });

    it('does not return an expired record', async () => {
      const { handle, store, clock } = setup();
      const key = randomId();
      store.put({ key, value: value('old'), ttlMs: 1_000, origin: 'replica' });
      await clock.advance(1_000);
      expect(parts(handle({ type: MessageType.FIND_VALUE, requestId: 13, key }, sender()))).toHaveLength(1);
    });
  });

  describe('STORE', () => {
    function storeRequest(options: { token: Uint8Array; key?: NodeId; bytes?: number; ttlSeconds?: number }) {
      const request: RequestMessage = {
        type: MessageType.STORE,
        requestId: 21,
        token: options.token,
        record: {
          key: options.key ?? randomId(),
          value: new Uint8Array(options.bytes ?? 5).fill(1),
          ttlSeconds: options.ttlSeconds ?? 3600,
        },
      };
      return request;
    }

    it('refuses a STORE without a valid token for the sender address', () => {
      const { handle, tokens, store, stored } = setup();
      const wrongAddress = tokens.issue({ host: '203.0.113.10', port: 5555 });
      for (const token of [new Uint8Array(16), wrongAddress, new Uint8Array(0)]) {
        const request = storeRequest({ token });
        expect(handle(request, sender())).toEqual({
          type: MessageType.STORE_ACK,
          requestId: 21,
          status: StoreStatus.BAD_TOKEN,
        });
      }
      expect(store.size).toBe(0);
      expect(stored).toEqual([]);
    });

    it('stores with a valid token as a replica when we are among the k closest, and reports it', () => {
      const { handle, tokens, store, stored, clock } = setup();
      const request = storeRequest({ token: tokens.issue(REQUESTER_ADDRESS), ttlSeconds: 120 });
      const from = sender();
      expect(handle(request, from)).toEqual({
        type: MessageType.STORE_ACK,
        requestId: 21,
        status: StoreStatus.OK,
      });
      if (request.type !== MessageType.STORE) throw new Error('unreachable');
      const held = store.get(request.record.key)!;
      expect(held.value).toEqual(request.record.value);
      expect(held.origin).toBe('replica');
      expect(held.sourceIp).toBe(REQUESTER_ADDRESS.host);
      expect(held.expiresAt).toBe(clock.now() + 120_000);
      expect(stored).toEqual([{ record: request.record, sender: from, origin: 'replica' }]);
    });

    it('stores as a cache copy when k known nodes are closer to the key than we are', () => {
      const key = randomId();
      // We differ from the key in its first bit only; the others share 4+ bits with it, so they are all closer.
      const localId = flipFirstBit(key);
      const k = 3;
      const { handle, tokens, store, stored, add } = setup({ localId, k });
      for (let i = 0; i < k; i++) add(idAtPrefixLength(key, 4 + i));
      expect(isResponsibleFor({ table: setupTableWith(localId, []), k, localId }, key)).toBe(true);

      const request = storeRequest({ token: tokens.issue(REQUESTER_ADDRESS), key });
      expect(handle(request, sender())).toMatchObject({ status: StoreStatus.OK });
      expect(store.get(key)!.origin).toBe('cache');
      expect(stored[0].origin).toBe('cache');
    });

    it('stays responsible while fewer than k known nodes are closer', () => {
      const key = randomId();
      const localId = flipFirstBit(key);
      const k = 3;
      const { handle, tokens, store, add } = setup({ localId, k });
      add(idAtPrefixLength(key, 4));
      add(idAtPrefixLength(key, 5));
      // Also differs from the key in the first bit, and in more: farther than us, so it does not count.
      add(idAtPrefixLength(localId, 10));
      expect(handle(storeRequest({ token: tokens.issue(REQUESTER_ADDRESS), key }), sender())).toMatchObject({
        status: StoreStatus.OK,
      });
      expect(store.get(key)!.origin).toBe('replica');
    });

    it('answers TOO_LARGE for a value over the store limit', () => {
      const { handle, tokens, store, stored } = setup({ store: { maxValueBytes: 10 } });
      const token = tokens.issue(REQUESTER_ADDRESS);
      expect(handle(storeRequest({ token, bytes: 11 }), sender())).toMatchObject({
        status: StoreStatus.TOO_LARGE,
      });
      expect(handle(storeRequest({ token, bytes: 10 }), sender())).toMatchObject({ status: StoreStatus.OK });
      expect(store.size).toBe(1);
      expect(stored).toHaveLength(1);
    });

    it('answers STORE_FULL when the store holds only records it must keep', () => {
      const { handle, tokens, stored } = setup({ store: { maxRecords: 1 } });
      const token = tokens.issue(REQUESTER_ADDRESS);
      expect(handle(storeRequest({ token }), sender())).toMatchObject({ status: StoreStatus.OK });
      expect(handle(storeRequest({ token }), sender())).toMatchObject({ status: StoreStatus.STORE_FULL });
      expect(stored).toHaveLength(1);
    });

    it('answers QUOTA_EXCEEDED once one IP address holds its share', () => {
      const { handle, tokens } = setup({ store: { maxRecordsPerIp: 2 } });
      const token = tokens.issue(REQUESTER_ADDRESS);
      expect(handle(storeRequest({ token }), sender())).toMatchObject({ status: StoreStatus.OK });
      expect(handle(storeRequest({ token }), sender())).toMatchObject({ status: StoreStatus.OK });
      expect(handle(storeRequest({ token }), sender())).toMatchObject({ status: StoreStatus.QUOTA_EXCEEDED });
      const other = { host: '203.0.113.50', port: 5555 };
      expect(handle(storeRequest({ token: tokens.issue(other) }), sender(randomId(), other))).toMatchObject({
        status: StoreStatus.OK,
      });
    });

    it('refuses a zero TTL with BAD_RECORD (not TOO_LARGE), without storing anything', () => {
      const { handle, tokens, store, stored } = setup();
      const reply = single(
        handle(storeRequest({ token: tokens.issue(REQUESTER_ADDRESS), ttlSeconds: 0 }), sender()),
      );
      expect(reply).toEqual({ type: MessageType.STORE_ACK, requestId: 21, status: StoreStatus.BAD_RECORD });
      // The status travels: the codec must accept it.
      expect(() => encodeMessage(reply)).not.toThrow();
      expect(store.size).toBe(0);
      expect(stored).toEqual([]);
    });

    it('does not report a cache STORE as stored when it left a record we hold authoritatively untouched', () => {
      const key = randomId();
      const localId = flipFirstBit(key);
      const k = 3;
      const { handle, tokens, store, stored, add } = setup({ localId, k });
      for (let i = 0; i < k; i++) add(idAtPrefixLength(key, 4 + i));
      store.put({ key, value: value('ours'), ttlMs: 60_000, origin: 'replica', sourceIp: '198.51.100.1' });

      const request = storeRequest({ token: tokens.issue(REQUESTER_ADDRESS), key, bytes: 9 });
      expect(handle(request, sender())).toMatchObject({ status: StoreStatus.OK });
      expect(store.get(key)).toMatchObject({ value: value('ours'), origin: 'replica' });
      expect(stored).toEqual([]);
    });

    it('accepts a token issued in a FIND_VALUE reply to the same address', () => {
      const { handle, store } = setup();
      const key = randomId();
      const [nodes] = parts(handle({ type: MessageType.FIND_VALUE, requestId: 1, key }, sender()));
      expect(handle(storeRequest({ token: nodes.token!, key }), sender())).toMatchObject({
        status: StoreStatus.OK,
      });
      expect(store.get(key)).toBeDefined();
    });
  });
});

describe('isResponsibleFor', () => {
  it('agrees with counting the known nodes closer to the key than we are', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 40 }), (k, count) => {
        const localId = randomId();
        const ids = Array.from({ length: count }, randomId);
        const table = setupTableWith(localId, ids);
        const key = randomId();
        const closer = [...table.entries()].filter((e) => compareDistance(key, e.id, localId) < 0).length;
        expect(isResponsibleFor({ table, k, localId }, key)).toBe(closer < k);
      }),
      { numRuns: 50 },
    );
  });
});

/** The key's nearest possible neighbour on the other side of the first bit. */
function flipFirstBit(id: NodeId): NodeId {
  const out = new Uint8Array(id);
  out[0] ^= 0x80;
  return out;
}

function setupTableWith(localId: NodeId, ids: NodeId[]): RoutingTable {
  const table = new RoutingTable({ localId, now: () => 0 });
  const contacts = new ContactFactory();
  for (const id of ids) table.observe(contacts.contact(id));
  return table;
}
