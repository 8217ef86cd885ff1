import { ID_BYTES } from '../id/node-id';
import { PublishedRecords } from './published-records';

const HOUR = 60 * 60_000;

function keyOf(n: number): Uint8Array {
  const key = new Uint8Array(ID_BYTES);
  key[0] = n;
  return key;
}

function fakeClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('PublishedRecords', () => {
  it('reports a record due once the interval has passed since it was published', () => {
    const clock = fakeClock();
    const published = new PublishedRecords({ now: clock.now });
    published.add({ key: keyOf(1), value: new Uint8Array([1, 2]), ttlMs: 24 * HOUR });
    clock.advance(22 * HOUR - 1);
    expect(published.dueForRepublish(22 * HOUR)).toEqual([]);
    clock.advance(1);
    expect(published.dueForRepublish(22 * HOUR)).toEqual([
      { key: keyOf(1), value: new Uint8Array([1, 2]), ttlMs: 24 * HOUR },
    ]);
  });

  it('keeps the signed fields of a signed record, so republish re-sends the same signed version', () => {
    const clock = fakeClock();
    const published = new PublishedRecords({ now: clock.now });
    const signed = {
      publicKey: new Uint8Array(32).fill(3),
      seq: 9,
      salt: new Uint8Array([1]),
      signature: new Uint8Array(64).fill(4),
    };
    published.add({ key: keyOf(1), value: new Uint8Array([1]), ttlMs: 24 * HOUR, signed });
    signed.signature.fill(0);
    clock.advance(22 * HOUR);
    expect(published.dueForRepublish(22 * HOUR)).toEqual([
      {
        key: keyOf(1),
        value: new Uint8Array([1]),
        ttlMs: 24 * HOUR,
        signed: { ...signed, signature: new Uint8Array(64).fill(4) },
      },
    ]);
  });

  it('keeps a record alive indefinitely while it is republished in time', () => {
    const clock = fakeClock();
    const published = new PublishedRecords({ now: clock.now });
    published.add({ key: keyOf(1), value: new Uint8Array([1]), ttlMs: 24 * HOUR });
    for (let round = 0; round < 5; round++) {
      clock.advance(22 * HOUR);
      const due = published.dueForRepublish(22 * HOUR);
      expect(due.map((r) => r.key[0])).toEqual([1]);
      published.markRepublished(keyOf(1));
      expect(published.dueForRepublish(22 * HOUR)).toEqual([]);
    }
    expect(published.has(keyOf(1))).toBe(true);
  });

  it('lets a record lapse at its TTL when it is not republished', () => {
    const clock = fakeClock();
    const published = new PublishedRecords({ now: clock.now });
    published.add({ key: keyOf(1), value: new Uint8Array([1]), ttlMs: HOUR });
    clock.advance(HOUR);
    expect(published.has(keyOf(1))).toBe(false);
    expect([...published.records()]).toEqual([]);
    clock.advance(22 * HOUR);
    expect(published.dueForRepublish(22 * HOUR)).toEqual([]);
    expect(published.size).toBe(0);
  });

  it('lists due records oldest first and re-adding a key restarts its clock', () => {
    const clock = fakeClock();
    const published = new PublishedRecords({ now: clock.now });
    for (const n of [3, 1, 2]) {
      published.add({ key: keyOf(n), value: new Uint8Array([n]), ttlMs: 48 * HOUR });
      clock.advance(HOUR);
    }
    published.add({ key: keyOf(3), value: new Uint8Array([30]), ttlMs: 48 * HOUR });
    clock.advance(21 * HOUR);
    expect(published.dueForRepublish(22 * HOUR).map((r) => r.key[0])).toEqual([1, 2]);
    clock.advance(HOUR);
    expect(published.dueForRepublish(22 * HOUR).map((r) => r.value[0])).toEqual([1, 2, 30]);
  });

  it('removes records on request', () => {
    const published = new PublishedRecords({ now: () => 0 });
    published.add({ key: keyOf(1), value: new Uint8Array([1]), ttlMs: HOUR });
    expect(published.remove(keyOf(1))).toBe(true);
    expect(published.remove(keyOf(1))).toBe(false);
    expect(published.size).toBe(0);
  });

  it('is bounded, counting only live records, and refuses non-positive TTLs', () => {
    const clock = fakeClock();
    const published = new PublishedRecords({ now: clock.now, maxRecords: 2 });
    expect(published.add({ key: keyOf(1), value: new Uint8Array(1), ttlMs: HOUR })).toBe(true);
    expect(published.add({ key: keyOf(2), value: new Uint8Array(1), ttlMs: 2 * HOUR })).toBe(true);
    expect(published.add({ key: keyOf(3), value: new Uint8Array(1), ttlMs: HOUR })).toBe(false);
    expect(published.add({ key: keyOf(2), value: new Uint8Array(2), ttlMs: 2 * HOUR })).toBe(true);
    clock.advance(HOUR);
    expect(published.add({ key: keyOf(3), value: new Uint8Array(1), ttlMs: HOUR })).toBe(true);
    expect(published.size).toBe(2);
    expect(published.add({ key: keyOf(4), value: new Uint8Array(1), ttlMs: 0 })).toBe(false);
  });

  it('keeps its own copy of key and value', () => {
    const published = new PublishedRecords({ now: () => 0 });
    const value = new Uint8Array([5]);
    published.add({ key: keyOf(1), value, ttlMs: HOUR });
    value[0] = 0;
    expect([...published.records()][0].value).toEqual(new Uint8Array([5]));
  });
});
