import fc from 'fast-check';
import { ID_BYTES } from '../id/node-id';
import { RecordStore, type RecordOrigin, type PutRejection } from './record-store';

const HOUR = 60 * 60_000;

function keyOf(n: number): Uint8Array {
  const key = new Uint8Array(ID_BYTES);
  key[0] = n;
  key[19] = 0xaa;
  return key;
}

function bytes(length: number, fill = 1): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('RecordStore', () => {
  it('stores a copy of the value and returns it until the TTL runs out', () => {
    const clock = fakeClock();
    const store = new RecordStore({ now: clock.now });
    const value = bytes(10, 7);
    const put = store.put({ key: keyOf(1), value, ttlMs: 1000, origin: 'replica', sourceIp: '10.0.0.1' });
    expect(put.ok).toBe(true);
    value.fill(0);
    expect(store.get(keyOf(1))?.value).toEqual(bytes(10, 7));
    expect(store.get(keyOf(1))).toMatchObject({
      expiresAt: clock.now() + 1000,
      origin: 'replica',
      sourceIp: '10.0.0.1',
    });

    clock.advance(999);
    expect(store.get(keyOf(1))).toBeDefined();
    clock.advance(1);
    expect(store.get(keyOf(1))).toBeUndefined();
    expect(store.size).toBe(0);
    expect(store.bytes).toBe(0);
    expect(store.stats().expired).toBe(1);
  });

  it('rejects values over maxValueBytes and non-positive TTLs, and counts the rejections', () => {
    const store = new RecordStore({ now: () => 0, maxValueBytes: 8 });
    expect(store.put({ key: keyOf(1), value: bytes(9), ttlMs: 1000, origin: 'replica' })).toEqual({
      ok: false,
      reason: 'too_large',
    });
    for (const ttlMs of [0, -5, Number.NaN]) {
      expect(store.put({ key: keyOf(1), value: bytes(8), ttlMs, origin: 'replica' })).toEqual({
        ok: false,
        reason: 'ttl_invalid',
      });
    }
    expect(store.stats().rejected).toMatchObject({
      too_large: 1,
      ttl_invalid: 3,
      store_full: 0,
      quota_exceeded: 0,
    });
    expect(store.size).toBe(0);
  });

  it('clamps a TTL longer than maxTtlMs', () => {
    const store = new RecordStore({ now: () => 100, maxTtlMs: HOUR });
    const put = store.put({ key: keyOf(1), value: bytes(1), ttlMs: 1000 * HOUR, origin: 'replica' });
    expect(put.ok && put.record.expiresAt).toBe(100 + HOUR);
    const forever = store.put({ key: keyOf(2), value: bytes(1), ttlMs: Infinity, origin: 'replica' });
    expect(forever.ok && forever.record.expiresAt).toBe(100 + HOUR);
  });

  it('replacing a key updates value and expiry with exact byte accounting', () => {
    const clock = fakeClock();
    const store = new RecordStore({ now: clock.now });
    store.put({ key: keyOf(1), value: bytes(100), ttlMs: 1000, origin: 'replica' });
    store.put({ key: keyOf(2), value: bytes(50), ttlMs: 1000, origin: 'replica' });
    store.put({ key: keyOf(1), value: bytes(30, 9), ttlMs: 5000, origin: 'replica' });
    expect(store.size).toBe(2);
    expect(store.bytes).toBe(80);

    clock.advance(1000);
    // The first deadline of key 1 is stale: expire() must not drop the replaced record.
    expect(store.expire()).toBe(1);
    expect(store.get(keyOf(1))?.value).toEqual(bytes(30, 9));
    expect(store.bytes).toBe(30);
    expect(store.delete(keyOf(1))).toBe(true);
    expect(store.delete(keyOf(1))).toBe(false);
    expect(store.bytes).toBe(0);
  });

  it('expire() removes every expired record and nothing else', () => {
    const clock = fakeClock();
    const store = new RecordStore({ now: clock.now });
    for (let i = 0; i < 10; i++)
      store.put({ key: keyOf(i), value: bytes(i), ttlMs: (i + 1) * 100, origin: 'replica' });
    clock.advance(500);
    expect(store.expire()).toBe(5);
    expect(store.expire()).toBe(0);
    expect([...store.entries()].map((r) => r.key[0]).sort()).toEqual([5, 6, 7, 8, 9]);
    expect(store.bytes).toBe(5 + 6 + 7 + 8 + 9);
    expect(store.stats().expired).toBe(5);
  });

  it('a cache put never downgrades or extends an authoritative record', () => {
    const clock = fakeClock();
    const store = new RecordStore({ now: clock.now });
    for (const origin of ['replica', 'publish'] as const) {
      const key = keyOf(origin === 'replica' ? 1 : 2);
      store.put({ key, value: bytes(4, 1), ttlMs: 1000, origin });
      const before = store.get(key);
      const put = store.put({ key, value: bytes(4, 2), ttlMs: 9000, origin: 'cache', sourceIp: '10.0.0.9' });
      expect(put).toEqual({ ok: true, record: before });
      expect(store.get(key)).toEqual(before);
    }
    expect(store.bytes).toBe(8);
  });

  it('a replica put upgrades a cached record, and a replica of our own publish stays ours', () => {
    const store = new RecordStore({ now: () => 0, maxRecordsPerIp: 1 });
    store.put({ key: keyOf(1), value: bytes(4), ttlMs: 1000, origin: 'cache', sourceIp: '10.0.0.1' });
    store.put({ key: keyOf(1), value: bytes(4), ttlMs: 2000, origin: 'replica', sourceIp: '10.0.0.1' });
    expect(store.get(keyOf(1))).toMatchObject({ origin: 'replica', expiresAt: 2000, sourceIp: '10.0.0.1' });

    store.put({ key: keyOf(2), value: bytes(4), ttlMs: 1000, origin: 'publish' });
    // 10.0.0.1 is at its quota, but our own record does not count against a peer.
    const put = store.put({
      key: keyOf(2),
      value: bytes(4),
      ttlMs: 3000,
      origin: 'replica',
      sourceIp: '10.0.0.1',
    });
    expect(put.ok).toBe(true);
    expect(store.get(keyOf(2))).toMatchObject({ origin: 'publish', expiresAt: 3000 });
    expect(store.get(keyOf(2))?.sourceIp).toBeUndefined();
  });

  describe('bounds', () => {
    it('when full, evicts cache records soonest-expiry first to admit a new record', () => {
      const store = new RecordStore({ now: () => 0, maxRecords: 3 });
      store.put({ key: keyOf(1), value: bytes(1), ttlMs: 500, origin: 'cache' });
      store.put({ key: keyOf(2), value: bytes(1), ttlMs: 100, origin: 'cache' });
      store.put({ key: keyOf(3), value: bytes(1), ttlMs: 900, origin: 'replica' });
      expect(store.put({ key: keyOf(4), value: bytes(1), ttlMs: 1000, origin: 'replica' }).ok).toBe(true);
      expect(store.get(keyOf(2))).toBeUndefined();
      expect(store.get(keyOf(1))).toBeDefined();
      expect(store.stats().evicted).toBe(1);
    });

    it('never evicts authoritative records: rejects with store_full', () => {
      const store = new RecordStore({ now: () => 0, maxRecords: 2 });
      store.put({ key: keyOf(1), value: bytes(1), ttlMs: 100, origin: 'replica' });
      store.put({ key: keyOf(2), value: bytes(1), ttlMs: 100, origin: 'publish' });
      expect(store.put({ key: keyOf(3), value: bytes(1), ttlMs: 100, origin: 'replica' })).toEqual({
        ok: false,
        reason: 'store_full',
      });
      expect(store.put({ key: keyOf(3), value: bytes(1), ttlMs: 100, origin: 'cache' }).ok).toBe(false);
      expect(store.size).toBe(2);
      expect(store.stats().rejected.store_full).toBe(2);
    });

    it('bounds bytes too, and evicts nothing when evicting every cache record would not make room', () => {
      const store = new RecordStore({ now: () => 0, maxBytes: 100, maxValueBytes: 100 });
      store.put({ key: keyOf(1), value: bytes(60), ttlMs: 100, origin: 'replica' });
      store.put({ key: keyOf(2), value: bytes(30), ttlMs: 100, origin: 'cache' });
      expect(store.put({ key: keyOf(3), value: bytes(50), ttlMs: 100, origin: 'replica' }).ok).toBe(false);
      expect(store.get(keyOf(2))).toBeDefined();
      expect(store.put({ key: keyOf(3), value: bytes(40), ttlMs: 100, origin: 'replica' }).ok).toBe(true);
      expect(store.get(keyOf(2))).toBeUndefined();
      expect(store.bytes).toBe(100);
    });

    it('a record growing in place may evict other cache records but not itself', () => {
      const store = new RecordStore({ now: () => 0, maxBytes: 20, maxValueBytes: 20 });
      store.put({ key: keyOf(1), value: bytes(10), ttlMs: 50, origin: 'cache' });
      store.put({ key: keyOf(2), value: bytes(10), ttlMs: 100, origin: 'cache' });
      expect(store.put({ key: keyOf(1), value: bytes(20), ttlMs: 50, origin: 'cache' }).ok).toBe(true);
      expect(store.get(keyOf(1))?.value.length).toBe(20);
      expect(store.get(keyOf(2))).toBeUndefined();
      expect(store.bytes).toBe(20);
    });

    it('purges expired records before deciding the store is full', () => {
      const clock = fakeClock();
      const store = new RecordStore({ now: clock.now, maxRecords: 1 });
      store.put({ key: keyOf(1), value: bytes(1), ttlMs: 100, origin: 'replica' });
      clock.advance(100);
      expect(store.put({ key: keyOf(2), value: bytes(1), ttlMs: 100, origin: 'replica' }).ok).toBe(true);
      expect(store.stats()).toMatchObject({ records: 1, expired: 1, evicted: 0 });
    });

    it('limits records per source IP, exempts our own, and frees quota on delete', () => {
      const store = new RecordStore({ now: () => 0, maxRecordsPerIp: 2 });
      const from = (n: number, sourceIp?: string) =>
        store.put({ key: keyOf(n), value: bytes(1), ttlMs: 100, origin: 'replica', sourceIp });
      expect(from(1, '10.0.0.1').ok).toBe(true);
      expect(from(2, '10.0.0.1').ok).toBe(true);
      expect(from(3, '10.0.0.1')).toEqual({ ok: false, reason: 'quota_exceeded' });
      expect(from(3, '10.0.0.2').ok).toBe(true);
      expect(from(4).ok).toBe(true);
      expect(from(5).ok).toBe(true);
      // Re-storing a key the same IP already holds consumes no extra quota.
      expect(from(1, '10.0.0.1').ok).toBe(true);
      // Another IP's copy takes the record over: 10.0.0.1 gets a slot back.
      expect(from(2, '10.0.0.2').ok).toBe(true);
      expect(from(6, '10.0.0.1').ok).toBe(true);
      expect(from(7, '10.0.0.1').ok).toBe(false);
      store.delete(keyOf(1));
      expect(from(7, '10.0.0.1').ok).toBe(true);
    });
  });

  describe('replication', () => {
    it('returns non-cache records neither replicated nor received within the interval', () => {
      const clock = fakeClock();
      const store = new RecordStore({ now: clock.now });
      store.put({
        key: keyOf(1),
        value: bytes(1),
        ttlMs: 24 * HOUR,
        origin: 'replica',
        sourceIp: '10.0.0.1',
      });
      store.put({ key: keyOf(2), value: bytes(1), ttlMs: 24 * HOUR, origin: 'publish' });
      store.put({ key: keyOf(3), value: bytes(1), ttlMs: 24 * HOUR, origin: 'cache' });
      clock.advance(HOUR - 1);
      expect(store.dueForReplication(HOUR)).toEqual([]);
      clock.advance(1);
      expect(store.dueForReplication(HOUR).map((r) => r.key[0])).toEqual([1, 2]);

      store.markReplicated(keyOf(1));
      expect(store.get(keyOf(1))?.lastReplicatedAt).toBe(clock.now());
      expect(store.dueForReplication(HOUR).map((r) => r.key[0])).toEqual([2]);
    });

    it('skips a record a peer re-stored within the interval (the paper’s optimisation)', () => {
      const clock = fakeClock();
      const store = new RecordStore({ now: clock.now });
      store.put({
        key: keyOf(1),
        value: bytes(1),
        ttlMs: 24 * HOUR,
        origin: 'replica',
        sourceIp: '10.0.0.1',
      });
      store.put({
        key: keyOf(2),
        value: bytes(1),
        ttlMs: 24 * HOUR,
        origin: 'replica',
        sourceIp: '10.0.0.1',
      });
      clock.advance(HOUR / 2);
      store.put({
        key: keyOf(1),
        value: bytes(1),
        ttlMs: 24 * HOUR,
        origin: 'replica',
        sourceIp: '10.0.0.2',
      });
      clock.advance(HOUR / 2);
      expect(store.dueForReplication(HOUR).map((r) => r.key[0])).toEqual([2]);
      clock.advance(HOUR / 2);
      expect(store.dueForReplication(HOUR).map((r) => r.key[0])).toEqual([2, 1]);
    });

    it('honours the limit, oldest first, and drops expired records it meets', () => {
      const clock = fakeClock();
      const store = new RecordStore({ now: clock.now });
      for (let i = 0; i < 5; i++) {
        store.put({ key: keyOf(i), value: bytes(1), ttlMs: i === 0 ? HOUR : 3 * HOUR, origin: 'replica' });
        clock.advance(1);
      }
      clock.advance(HOUR);
      expect(store.dueForReplication(HOUR, 2).map((r) => r.key[0])).toEqual([1, 2]);
      expect(store.size).toBe(4);
      for (const record of store.dueForReplication(HOUR, 2)) store.markReplicated(record.key);
      expect(store.dueForReplication(HOUR, 2).map((r) => r.key[0])).toEqual([3, 4]);
    });
  });

  it('rejects invalid configuration', () => {
    expect(() => new RecordStore({ now: () => 0, maxRecords: 0 })).toThrow(/maxRecords/);
  });

  describe('against a reference model', () => {
    type Op =
      | { kind: 'put'; key: number; len: number; ttl: number; origin: RecordOrigin; ip: number }
      | { kind: 'get' | 'delete' | 'mark'; key: number }
      | { kind: 'expire' }
      | { kind: 'advance'; steps: number }
      | { kind: 'due'; intervalSteps: number };

    interface ModelRecord {
      len: number;
      expiresAt: number;
      storedAt: number;
      lastReplicatedAt: number;
      origin: RecordOrigin;
      ip?: string;
    }

    const LIMITS = { maxRecords: 5, maxBytes: 40, maxRecordsPerIp: 2, maxValueBytes: 16, maxTtlMs: 1e12 };
    const STEP = 1000; // clock moves in whole steps; op index < STEP keeps every expiry distinct
    const RANK: Record<RecordOrigin, number> = { cache: 0, replica: 1, publish: 2 };

    const opArb: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('put' as const),
          key: fc.integer({ min: 0, max: 7 }),
          len: fc.oneof(fc.integer({ min: 0, max: 17 }), fc.integer({ min: 10, max: 16 })),
          ttl: fc.integer({ min: -1, max: 6 }),
          origin: fc.constantFrom<RecordOrigin>('publish', 'replica', 'cache', 'cache'),
          ip: fc.integer({ min: -1, max: 2 }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 7 }) }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 7 }) }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant('mark' as const), key: fc.integer({ min: 0, max: 7 }) }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const) }) },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('advance' as const),
          steps: fc.integer({ min: 1, max: 4 }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('due' as const),
          intervalSteps: fc.integer({ min: 0, max: 5 }),
        }),
      },
    );

    it('keeps results and accounting exact over random operation sequences', () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
          let now = 0;
          const store = new RecordStore({ now: () => now, ...LIMITS });
          const model = new Map<number, ModelRecord>();
          const expected = { expired: 0, evicted: 0 };
          const rejected: Record<PutRejection, number> = {
            too_large: 0,
            store_full: 0,
            quota_exceeded: 0,
            ttl_invalid: 0,
            bad_signature: 0,
            bad_record: 0,
            seq_too_low: 0,
            seq_reused: 0,
            signed_key: 0,
          };

          const modelBytes = () => [...model.values()].reduce((sum, r) => sum + r.len, 0);
          const modelExpire = () => {
            let n = 0;
            for (const [k, r] of model) {
              if (r.expiresAt > now) continue;
              model.delete(k);
              n++;
            }
            expected.expired += n;
            return n;
          };
          const modelLive = (key: number) => {
            const r = model.get(key);
            if (r && r.expiresAt <= now) {
              model.delete(key);
              expected.expired++;
              return undefined;
            }
            return r;
          };
          const reject = (reason: PutRejection) => {
            rejected[reason]++;
            return reason;
          };

          const modelPut = (op: Extract<Op, { kind: 'put' }>, index: number): PutRejection | 'ok' => {
            if (op.len > LIMITS.maxValueBytes) return reject('too_large');
            if (op.ttl <= 0) return reject('ttl_invalid');
            const existing = modelLive(op.key);
            if (existing && op.origin === 'cache' && existing.origin !== 'cache') return 'ok';
            const origin = existing && RANK[existing.origin] > RANK[op.origin] ? existing.origin : op.origin;
            const ip = origin === 'publish' || op.ip < 0 ? undefined : `10.0.0.${op.ip}`;
            const ipCount = [...model.values()].filter((r) => r.ip === ip).length;
            if (ip !== undefined && ip !== existing?.ip && ipCount >= LIMITS.maxRecordsPerIp) {
              return reject('quota_exceeded');
            }
            const addRecords = existing ? 0 : 1;
            const addBytes = op.len - (existing?.len ?? 0);
            const fits = () =>
              model.size + addRecords <= LIMITS.maxRecords && modelBytes() + addBytes <= LIMITS.maxBytes;
            if (!fits()) {
              modelExpire();
              if (!fits()) {
                const victims = [...model]
                  .filter(([k, r]) => r.origin === 'cache' && k !== op.key)
                  .sort((a, b) => a[1].expiresAt - b[1].expiresAt);
                const freedBytes = victims.reduce((sum, [, r]) => sum + r.len, 0);
                if (
                  model.size - victims.length + addRecords > LIMITS.maxRecords ||
                  modelBytes() - freedBytes + addBytes > LIMITS.maxBytes
                ) {
                  return reject('store_full');
                }
                for (const [k] of victims) {
                  if (fits()) break;
                  model.delete(k);
                  expected.evicted++;
                }
              }
            }
            model.set(op.key, {
              len: op.len,
              expiresAt: now + op.ttl * STEP + index,
              storedAt: now,
              lastReplicatedAt: existing?.lastReplicatedAt ?? now,
              origin,
              ip,
            });
            return 'ok';
          };

          ops.forEach((op, index) => {
            switch (op.kind) {
              case 'put': {
                const ttlMs = op.ttl <= 0 ? op.ttl : op.ttl * STEP + index;
                const result = store.put({
                  key: keyOf(op.key),
                  value: bytes(op.len),
                  ttlMs,
                  origin: op.origin,
                  sourceIp: op.ip < 0 ? undefined : `10.0.0.${op.ip}`,
                });
                expect(result.ok ? 'ok' : result.reason).toBe(modelPut(op, index));
                break;
              }
              case 'get': {
                const r = modelLive(op.key);
                const got = store.get(keyOf(op.key));
                expect(
                  got === undefined ? undefined : [got.value.length, got.expiresAt, got.origin, got.sourceIp],
                ).toEqual(r === undefined ? undefined : [r.len, r.expiresAt, r.origin, r.ip]);
                break;
              }
              case 'delete':
                expect(store.delete(keyOf(op.key))).toBe(model.delete(op.key));
                break;
              case 'mark': {
                store.markReplicated(keyOf(op.key));
                const r = model.get(op.key);
                if (r) r.lastReplicatedAt = now;
                break;
              }
              case 'expire':
                expect(store.expire()).toBe(modelExpire());
                break;
              case 'advance':
                now += op.steps * STEP;
                break;
              case 'due': {
                const interval = op.intervalSteps * STEP;
                const due: number[] = [];
                for (const [k, r] of model) {
                  if (r.origin === 'cache' || now - Math.max(r.storedAt, r.lastReplicatedAt) < interval)
                    continue;
                  if (r.expiresAt <= now) {
                    model.delete(k);
                    expected.expired++;
                  } else due.push(k);
                }
                const got = store.dueForReplication(interval).map((r) => r.key[0]);
                expect([...got].sort()).toEqual(due.sort());
                break;
              }
            }
            expect(store.size).toBe(model.size);
            expect(store.bytes).toBe(modelBytes());
            expect(store.stats()).toEqual({
              records: model.size,
              bytes: modelBytes(),
              rejected,
              expired: expected.expired,
              evicted: expected.evicted,
            });
            const live = [...model].filter(([, r]) => r.expiresAt > now).map(([k]) => k);
            expect([...store.entries()].map((r) => r.key[0]).sort()).toEqual(live.sort());
          });
        }),
        { numRuns: 800 },
      );
    });
  });
});
