import fc from 'fast-check';
import { LruMap } from './lru-map';

describe('LruMap', () => {
  it('evicts the least recently set entry beyond maxSize and returns it', () => {
    const lru = new LruMap<string, number>(2);
    expect(lru.set('a', 1)).toBeUndefined();
    expect(lru.set('b', 2)).toBeUndefined();
    expect(lru.set('c', 3)).toEqual(['a', 1]);
    expect([...lru.keys()]).toEqual(['b', 'c']);
    expect(lru.size).toBe(2);
  });

  it('get refreshes recency so a read entry survives the next eviction', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    expect(lru.set('c', 3)).toEqual(['b', 2]);
    expect(lru.has('a')).toBe(true);
  });

  it('peek reads without refreshing recency', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.peek('a')).toBe(1);
    expect(lru.set('c', 3)).toEqual(['a', 1]);
  });

  it('replacing a key updates its value and recency without evicting', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.set('a', 10)).toBeUndefined();
    expect([...lru.entries()]).toEqual([
      ['b', 2],
      ['a', 10],
    ]);
  });

  it('keeps undefined values distinguishable from absent keys', () => {
    const lru = new LruMap<string, number | undefined>(2);
    lru.set('a', undefined);
    expect(lru.has('a')).toBe(true);
    expect(lru.get('a')).toBeUndefined();
    expect(lru.has('a')).toBe(true);
  });

  it('deletes and clears', () => {
    const lru = new LruMap<number, number>(3);
    lru.set(1, 1);
    lru.set(2, 2);
    expect(lru.delete(1)).toBe(true);
    expect(lru.delete(1)).toBe(false);
    expect([...lru.values()]).toEqual([2]);
    lru.clear();
    expect(lru.size).toBe(0);
  });

  it('rejects a non-positive maxSize', () => {
    expect(() => new LruMap(0)).toThrow(RangeError);
  });

  it('matches a reference model over random operation sequences', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        key: fc.integer({ min: 0, max: 9 }),
        value: fc.integer(),
      }),
      fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 9 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 60 }), (maxSize, ops) => {
        const lru = new LruMap<number, number>(maxSize);
        let model: [number, number][] = []; // least recent first
        for (const o of ops) {
          const at = model.findIndex(([k]) => k === o.key);
          if (o.kind === 'set') {
            if (at >= 0) model.splice(at, 1);
            model.push([o.key, o.value]);
            const expectedEvicted = model.length > maxSize ? model.shift() : undefined;
            expect(lru.set(o.key, o.value)).toEqual(expectedEvicted);
          } else if (o.kind === 'get') {
            const entry = at >= 0 ? model.splice(at, 1)[0] : undefined;
            if (entry) model.push(entry);
            expect(lru.get(o.key)).toBe(entry?.[1]);
          } else {
            expect(lru.delete(o.key)).toBe(at >= 0);
            model = model.filter(([k]) => k !== o.key);
          }
          expect([...lru.entries()]).toEqual(model);
        }
      }),
    );
  });
});
