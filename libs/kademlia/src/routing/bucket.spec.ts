import { idToHex } from '../id/node-id';
import { Bucket } from './bucket';
import { createEntry, type MutableEntry } from './routing-entry';
import { bitsOf, ContactFactory, hexOf, idFromBits } from './test/routing-fixtures';

const contacts = new ContactFactory();

function entry(bits: string, seenAt: number): MutableEntry {
  return createEntry(contacts.contact(idFromBits(bits, 1)), seenAt);
}

describe('Bucket', () => {
  it('keeps live entries least recently seen first, whatever order they arrive in', () => {
    const bucket = Bucket.root({ capacity: 4, createdAt: 0 });
    const [a, b, c] = [entry('00', 30), entry('01', 10), entry('10', 20)];
    for (const e of [a, b, c]) bucket.addLive(e);
    expect(bucket.live).toEqual([b, c, a]);
    expect(bucket.leastRecentlySeen()).toBe(b);

    b.lastSeen = 40;
    bucket.markSeen(b);
    expect(bucket.live).toEqual([c, a, b]);
    expect(bucket.isFull()).toBe(false);
    bucket.addLive(entry('11', 50));
    expect(bucket.isFull()).toBe(true);
  });

  it('keeps the replacement cache most recent first, bounded, one slot per ID', () => {
    const bucket = Bucket.root({ capacity: 1, replacementCapacity: 2, createdAt: 0 });
    const [a, b, c] = [entry('00', 1), entry('01', 2), entry('10', 3)];
    expect(bucket.cacheReplacement(a)).toEqual([]);
    expect(bucket.cacheReplacement(b)).toEqual([]);
    expect(bucket.replacements).toEqual([b, a]);

    // The same ID again moves to the fresh end, replacing the older record of it.
    const aAgain = createEntry(contacts.contact(a.id), 4);
    expect(bucket.cacheReplacement(aAgain)).toEqual([a]);
    expect(bucket.replacements).toEqual([aAgain, b]);

    // A third ID pushes the stalest one out.
    expect(bucket.cacheReplacement(c)).toEqual([b]);
    expect(bucket.replacements).toEqual([c, aAgain]);
  });

  it('reports the newcomer itself as dropped when the cache holds nothing', () => {
    const bucket = Bucket.root({ capacity: 1, replacementCapacity: 0, createdAt: 0 });
    const a = entry('0', 1);
    expect(bucket.cacheReplacement(a)).toEqual([a]);
    expect(bucket.replacements).toEqual([]);
  });

  it('promotes the freshest replacements into free live slots only', () => {
    const bucket = Bucket.root({ capacity: 2, replacementCapacity: 3, createdAt: 0 });
    const live = entry('00', 5);
    bucket.addLive(live);
    const [old, fresh] = [entry('01', 1), entry('10', 9)];
    bucket.cacheReplacement(old);
    bucket.cacheReplacement(fresh);

    expect(bucket.promoteReplacements()).toEqual([fresh]);
    expect(bucket.live).toEqual([live, fresh]);
    expect(bucket.replacements).toEqual([old]);
    expect(bucket.promoteReplacements()).toEqual([]);
  });

  it('hands out promotion candidates freshest first, only while a live slot is free', () => {
    const bucket = Bucket.root({ capacity: 1, replacementCapacity: 3, createdAt: 0 });
    const [old, fresh] = [entry('01', 1), entry('10', 9)];
    bucket.cacheReplacement(old);
    bucket.cacheReplacement(fresh);

    // A candidate the caller refuses is simply gone: the next one is offered for the same slot.
    expect(bucket.takePromotionCandidate()).toBe(fresh);
    expect(bucket.takePromotionCandidate()).toBe(old);
    expect(bucket.takePromotionCandidate()).toBeUndefined();
    bucket.addLive(entry('00', 5));
    bucket.cacheReplacement(fresh);
    expect(bucket.takePromotionCandidate()).toBeUndefined();
    expect(bucket.replacements).toEqual([fresh]);
  });

  it('splits into two halves that keep live entries and replacements, in order', () => {
    const bucket = Bucket.root({ capacity: 3, replacementCapacity: 4, createdAt: 0 });
    const live = [entry('00', 1), entry('10', 2), entry('01', 3)];
    for (const e of live) bucket.addLive(e);
    const spares = [entry('11', 4), entry('000', 5), entry('101', 6)];
    for (const e of spares) bucket.cacheReplacement(e);
    bucket.lastTouched = 7;

    const [zero, one] = bucket.split(100);
    expect([zero.depth, zero.prefixBits(), one.depth, one.prefixBits()]).toEqual([1, '0', 1, '1']);
    expect(hexOf(zero.live)).toEqual(hexOf([live[0], live[2]]));
    expect(hexOf(one.live)).toEqual(hexOf([live[1]]));
    expect(hexOf(zero.replacements)).toEqual(hexOf([spares[1]]));
    expect(hexOf(one.replacements)).toEqual(hexOf([spares[2], spares[0]]));
    expect([zero.lastChanged, one.lastChanged, zero.lastTouched, one.lastTouched]).toEqual([100, 100, 7, 7]);
    expect([zero.capacity, zero.replacementCapacity]).toEqual([3, 4]);

    const [oneZero, oneOne] = one.split(101);
    expect([oneZero.prefixBits(), oneOne.prefixBits()]).toEqual(['10', '11']);
    expect(idToHex(oneOne.prefix)).toBe(idToHex(idFromBits('11')));
  });

  it('knows its range: covers(), prefixBits() and random IDs inside it', () => {
    const [, one] = Bucket.root({ createdAt: 0 }).split(0);
    const [, oneOne] = one.split(0);
    const [oneOneZero] = oneOne.split(0);
    expect(oneOneZero.prefixBits()).toBe('110');
    expect(oneOneZero.covers(idFromBits('110', 1))).toBe(true);
    expect(oneOneZero.covers(idFromBits('111', 0))).toBe(false);
    for (let i = 0; i < 20; i++) expect(bitsOf(oneOneZero.randomIdInRange(), 3)).toBe('110');
  });

  it('refuses to split a single-ID range', () => {
    const deepest = new Bucket({ prefix: idFromBits(''), depth: 160, createdAt: 0 });
    expect(() => deepest.split(0)).toThrow(RangeError);
  });
});
