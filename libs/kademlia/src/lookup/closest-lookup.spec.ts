import fc from 'fast-check';
import { isKademliaError } from '../errors';
import { compareDistance, ID_BYTES, idEquals, idToHex, type NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import { ClosestLookup, type LookupOptions } from './closest-lookup';

// The target is all zeros, so a contact's distance to it is its ID: contact(3) is nearer than contact(4).
const target: NodeId = new Uint8Array(ID_BYTES);

function idOf(n: number): NodeId {
  const id = new Uint8Array(ID_BYTES);
  id[ID_BYTES - 4] = (n >>> 24) & 0xff;
  id[ID_BYTES - 3] = (n >>> 16) & 0xff;
  id[ID_BYTES - 2] = (n >>> 8) & 0xff;
  id[ID_BYTES - 1] = n & 0xff;
  return id;
}

function contact(n: number, port = 1000 + (n % 60_000)): Contact {
  return { id: idOf(n), publicKey: new Uint8Array(32), host: '10.0.0.1', port };
}

function contacts(...ns: number[]): Contact[] {
  return ns.map((n) => contact(n));
}

function numbers(list: readonly Contact[]): number[] {
  return list.map((c) => Buffer.from(c.id).readUInt32BE(ID_BYTES - 4));
}

function lookup(options: Partial<LookupOptions> & { seeds: Contact[] }): ClosestLookup {
  return new ClosestLookup({ target, k: 3, alpha: 2, ...options });
}

describe('ClosestLookup', () => {
  it('asks the alpha nearest seeds first and never has more than alpha requests in flight', () => {
    const l = lookup({ seeds: contacts(50, 10, 40, 20, 30) });
    expect(numbers(l.nextRequests())).toEqual([10, 20]);
    expect(l.nextRequests()).toEqual([]);
    l.onResponse(idOf(10), []);
    expect(numbers(l.nextRequests())).toEqual([30]);
    expect(l.nextRequests()).toEqual([]);
    expect(l.stats.requests).toBe(3);
  });

  it('frees an alpha slot for a slow request and still accepts its late reply', () => {
    const l = lookup({ seeds: contacts(10, 20, 30, 40) });
    expect(numbers(l.nextRequests())).toEqual([10, 20]);
    l.onSlow(idOf(10));
    expect(numbers(l.nextRequests())).toEqual([30]);
    expect(l.nextRequests()).toEqual([]);
    l.onResponse(idOf(10), contacts(5));
    expect(l.stats).toMatchObject({ responses: 1, slow: 1 });
    expect(numbers(l.closest())).toEqual([10]);
    expect(l.nextRequests()).toEqual([]);
    l.onResponse(idOf(20), []);
    expect(numbers(l.nextRequests())).toEqual([5]);
  });

  it('does not finish while a nearer request is slow, and waits for its answer', () => {
    const l = lookup({ seeds: contacts(10, 20, 30, 40), alpha: 1 });
    l.nextRequests();
    l.onSlow(idOf(10));
    for (const c of l.nextRequests()) l.onResponse(c.id, []);
    for (const c of l.nextRequests()) l.onResponse(c.id, []);
    for (const c of l.nextRequests()) l.onResponse(c.id, []);
    expect(numbers(l.closest())).toEqual([20, 30, 40]);
    expect(l.isDone()).toBe(false);
    l.onResponse(idOf(10), []);
    expect(l.isDone()).toBe(true);
    expect(numbers(l.closest())).toEqual([10, 20, 30]);
  });

  it('frees a slot on failure, never returns the failed node and never asks it again', () => {
    const l = lookup({ seeds: contacts(10, 20, 30, 40) });
    l.nextRequests();
    l.onFailure(idOf(10));
    expect(numbers(l.nextRequests())).toEqual([30]);
    l.onResponse(idOf(20), contacts(10, 15));
    expect(numbers(l.nextRequests())).toEqual([15]);
    l.onResponse(idOf(15), contacts(10));
    l.onResponse(idOf(30), []);
    expect(l.isDone()).toBe(true);
    expect(l.finishReason).toBe('converged');
    expect(numbers(l.closest())).toEqual([15, 20, 30]);
    expect(l.stats).toMatchObject({ requests: 4, responses: 3, failures: 1 });
  });

  it('deduplicates by ID and keeps the address it learned first', () => {
    const l = lookup({ seeds: [contact(10), contact(10, 7), contact(20)], k: 2 });
    expect(numbers(l.nextRequests())).toEqual([10, 20]);
    l.onResponse(idOf(10), [contact(20, 9), contact(10, 9), contact(20, 9)]);
    expect(l.nextRequests()).toEqual([]);
    l.onResponse(idOf(20), [contact(10, 9)]);
    expect(l.stats.requests).toBe(2);
    expect(l.candidateCount).toBe(2);
    expect(l.closest().map((c) => c.port)).toEqual([1010, 1020]);
  });

  it('never asks or returns its own ID, wherever it is mentioned', () => {
    const l = lookup({ seeds: contacts(5, 10, 20), localId: idOf(5), k: 2 });
    expect(numbers(l.nextRequests())).toEqual([10, 20]);
    l.onResponse(idOf(10), contacts(5, 1));
    l.onResponse(idOf(20), contacts(5));
    expect(numbers(l.nextRequests())).toEqual([1]);
    l.onResponse(idOf(1), contacts(5));
    expect(l.isDone()).toBe(true);
    expect(numbers(l.closest())).toEqual([1, 10]);
  });

  it('converges once the k nearest candidates have all answered, with farther requests still out', () => {
    const l = lookup({ seeds: contacts(40, 50), k: 2, alpha: 3 });
    expect(numbers(l.nextRequests())).toEqual([40, 50]);
    l.onResponse(idOf(40), contacts(10, 20, 30));
    expect(numbers(l.nextRequests())).toEqual([10, 20]);
    l.onResponse(idOf(50), []);
    expect(numbers(l.nextRequests())).toEqual([30]);
    l.onResponse(idOf(10), []);
    expect(l.isDone()).toBe(false);
    l.onResponse(idOf(20), []);
    expect(l.isDone()).toBe(true);
    expect(l.finishReason).toBe('converged');
    expect(numbers(l.closest())).toEqual([10, 20]);
    expect(l.nextRequests()).toEqual([]);
  });

  it('asks nobody farther than the k-th answered node', () => {
    const l = lookup({ seeds: contacts(10, 20, 30, 40, 50), k: 2, alpha: 2 });
    l.nextRequests();
    l.onResponse(idOf(10), []);
    l.onResponse(idOf(20), []);
    expect(l.nextRequests()).toEqual([]);
    expect(l.finishReason).toBe('converged');
    expect(l.stats.requests).toBe(2);
  });

  it('converges with fewer than k answers once nothing else is left', () => {
    const l = lookup({ seeds: contacts(10, 20), k: 5 });
    l.nextRequests();
    l.onResponse(idOf(10), []);
    l.onFailure(idOf(20));
    expect(l.finishReason).toBe('converged');
    expect(numbers(l.closest())).toEqual([10]);
  });

  it('stops sending at the RPC budget and finishes once nothing is in flight', () => {
    const l = lookup({ seeds: contacts(10, 20, 30, 40, 50), k: 5, alpha: 2, maxRpcs: 3 });
    l.nextRequests();
    l.onResponse(idOf(10), []);
    expect(numbers(l.nextRequests())).toEqual([30]);
    l.onResponse(idOf(20), []);
    expect(l.nextRequests()).toEqual([]);
    expect(l.isDone()).toBe(false);
    l.onFailure(idOf(30));
    expect(l.finishReason).toBe('budget');
    expect(numbers(l.closest())).toEqual([10, 20]);
    expect(l.stats.requests).toBe(3);
  });

  it('is exhausted at once without seeds, and when every node fails', () => {
    const empty = lookup({ seeds: [] });
    expect(empty.isDone()).toBe(true);
    expect(empty.finishReason).toBe('exhausted');
    expect(empty.nextRequests()).toEqual([]);

    const dead = lookup({ seeds: contacts(10, 20, 30) });
    for (let sent = dead.nextRequests(); sent.length > 0; sent = dead.nextRequests())
      for (const c of sent) dead.onFailure(c.id);
    expect(dead.finishReason).toBe('exhausted');
    expect(dead.closest()).toEqual([]);
    expect(dead.stats).toMatchObject({ requests: 3, failures: 3, responses: 0 });
  });

  it('ignores unsolicited and repeated replies and every event after finishing', () => {
    const l = lookup({ seeds: contacts(10, 20), k: 2 });
    l.onResponse(idOf(10), contacts(1));
    l.onResponse(idOf(99), contacts(1));
    expect(l.candidateCount).toBe(2);
    l.nextRequests();
    l.onResponse(idOf(10), []);
    l.onResponse(idOf(10), contacts(1));
    l.onFailure(idOf(10));
    expect(l.stats).toMatchObject({ responses: 1, failures: 0 });
    l.onResponse(idOf(20), []);
    expect(l.isDone()).toBe(true);
    l.onResponse(idOf(1), []);
    l.onFailure(idOf(20));
    expect(numbers(l.closest())).toEqual([10, 20]);
    expect(l.stats).toMatchObject({ responses: 2, failures: 0 });
  });

  it('skips malformed contacts in a reply instead of throwing', () => {
    const l = lookup({ seeds: contacts(10), k: 2 });
    l.nextRequests();
    const junk = [null, { id: new Uint8Array(3) }, { id: 'abc' }, contact(5)] as unknown as Contact[];
    l.onResponse(idOf(10), junk);
    expect(numbers(l.nextRequests())).toEqual([5]);
    expect(l.candidateCount).toBe(2);
  });

  it('counts hops: seeds are 1, each answer adds one, the shortest path wins', () => {
    const l = lookup({ seeds: contacts(40, 50), k: 1, alpha: 1 });
    l.nextRequests();
    l.onResponse(idOf(40), contacts(30));
    l.nextRequests();
    l.onResponse(idOf(30), contacts(20));
    l.nextRequests();
    l.onResponse(idOf(20), contacts(10));
    expect(l.stats.maxHops).toBe(3);
    l.nextRequests();
    l.onResponse(idOf(10), []);
    expect(l.stats.maxHops).toBe(4);
    expect(l.finishReason).toBe('converged');
  });

  it('reports its duration from the injected clock', () => {
    let now = 1_000;
    const l = lookup({ seeds: contacts(10), k: 1, now: () => now });
    l.nextRequests();
    now += 250;
    expect(l.stats.durationMs).toBeUndefined();
    l.onResponse(idOf(10), []);
    expect(l.stats.durationMs).toBe(250);
  });

  it('stays bounded under a flood of junk contacts and still finds the real nearest node', () => {
    const l = new ClosestLookup({ target, seeds: contacts(1_000_000), k: 20, alpha: 3, maxUnqueried: 100 });
    let next = 2_000_000;
    for (let sent = l.nextRequests(), round = 0; sent.length > 0; sent = l.nextRequests(), round++) {
      for (const c of sent) {
        const junk = Array.from({ length: 2_000 }, () => contact(next++));
        // The real node 7 is mentioned once, by the first responder, among thousands of farther IDs.
        l.onResponse(c.id, round === 0 ? [...junk, contact(7)] : junk);
        expect(l.candidateCount).toBeLessThanOrEqual(100 + l.stats.requests);
      }
    }
    expect(l.stats.requests).toBeLessThanOrEqual(120);
    expect(numbers(l.closest())[0]).toBe(7);
  });

  it('rejects nonsense options with CONFIG_INVALID', () => {
    const bad: Partial<LookupOptions>[] = [
      { k: 0 },
      { alpha: 1.5 },
      { maxRpcs: -1 },
      { maxUnqueried: 0 },
      { target: new Uint8Array(4) },
    ];
    for (const options of bad) {
      expect(() => new ClosestLookup({ target, seeds: [], ...options })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    }
    expect(
      isKademliaError(
        catchError(() => lookup({ seeds: [], k: NaN })),
        'CONFIG_INVALID',
      ),
    ).toBe(true);
  });

  it('keeps its invariants under any order of replies, failures and slow marks', () => {
    // A small random world: 60 nodes, each knowing a fixed random handful of others; some are dead.
    const world = fc.record({
      knows: fc.array(fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 8 }), {
        minLength: 60,
        maxLength: 60,
      }),
      dead: fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 20 }),
      seeds: fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { minLength: 0, maxLength: 6 }),
      choices: fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
      alpha: fc.integer({ min: 1, max: 4 }),
      maxRpcs: fc.integer({ min: 0, max: 40 }),
    });
    fc.assert(
      fc.property(world, ({ knows, dead, seeds, choices, alpha, maxRpcs }) => {
        const localId = idOf(1);
        const l = new ClosestLookup({ target, seeds: contacts(...seeds), k: 4, alpha, maxRpcs, localId });
        const pending: { c: Contact; slow: boolean }[] = [];
        const asked = new Set<string>();
        const failed = new Set<string>();
        let step = 0;
        while (!l.isDone()) {
          for (const c of l.nextRequests()) {
            const key = idToHex(c.id);
            expect(asked.has(key)).toBe(false);
            expect(idEquals(c.id, localId)).toBe(false);
            asked.add(key);
            pending.push({ c, slow: false });
          }
          expect(pending.filter((p) => !p.slow).length).toBeLessThanOrEqual(alpha);
          if (l.isDone()) break;
          expect(pending.length).toBeGreaterThan(0); // never stalls with nothing to wait for
          const choice = choices[step++ % choices.length];
          const index = choice % pending.length;
          const { c, slow } = pending[index];
          const n = numbers([c])[0];
          if (choice % 5 === 0 && !slow) {
            pending[index].slow = true;
            l.onSlow(c.id);
            continue;
          }
          pending.splice(index, 1);
          if (dead.includes(n)) {
            failed.add(idToHex(c.id));
            l.onFailure(c.id);
          } else l.onResponse(c.id, contacts(...knows[n - 1]));
        }
        const result = l.closest();
        expect(result.length).toBeLessThanOrEqual(4);
        expect(l.stats.requests).toBeLessThanOrEqual(maxRpcs);
        for (const c of result) {
          expect(failed.has(idToHex(c.id))).toBe(false);
          expect(idEquals(c.id, localId)).toBe(false);
        }
        for (let i = 1; i < result.length; i++)
          expect(compareDistance(target, result[i - 1].id, result[i].id)).toBeLessThan(0);
      }),
      { numRuns: 300 },
    );
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
