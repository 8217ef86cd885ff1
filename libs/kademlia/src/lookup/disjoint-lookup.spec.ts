import fc from 'fast-check';
import { isKademliaError } from '../errors';
import { compareDistance, ID_BYTES, type NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import { ClosestLookup } from './closest-lookup';
import { DisjointLookup, type DisjointLookupOptions } from './disjoint-lookup';
import type { LookupStateMachine } from './lookup-state-machine';
import { buildOracleNetwork, nearest, prng, randomIdFrom } from './test/oracle-network';

// The target is all zeros, so a contact's distance to it is its number: contact(3) is nearer than contact(4).
const target: NodeId = new Uint8Array(ID_BYTES);

function idOf(n: number): NodeId {
  const id = new Uint8Array(ID_BYTES);
  new DataView(id.buffer).setUint32(ID_BYTES - 4, n);
  return id;
}

function contact(n: number): Contact {
  return { id: idOf(n), publicKey: new Uint8Array(32), host: '10.0.0.1', port: 1000 + (n % 60_000) };
}

function contacts(...ns: number[]): Contact[] {
  return ns.map(contact);
}

function numberOf(id: NodeId): number {
  return new DataView(id.buffer, id.byteOffset).getUint32(ID_BYTES - 4);
}

function numbers(list: readonly Contact[]): number[] {
  return list.map((c) => numberOf(c.id));
}

function lookup(options: Partial<DisjointLookupOptions>): DisjointLookup {
  return new DisjointLookup({ target, seeds: [], k: 3, alpha: 1, paths: 2, ...options });
}

describe('DisjointLookup', () => {
  it('is driven through the same interface as ClosestLookup', () => {
    const drivers: LookupStateMachine[] = [
      new ClosestLookup({ target, seeds: contacts(1) }),
      new DisjointLookup({ target, seeds: contacts(1) }),
    ];
    for (const driver of drivers) {
      expect(numbers(driver.nextRequests())).toEqual([1]);
      driver.onResponse(idOf(1), []);
      expect(driver.isDone()).toBe(true);
      expect(driver.finishReason).toBe('converged');
      expect(numbers(driver.closest())).toEqual([1]);
    }
  });

  it('deals the seeds round-robin by distance, without duplicates or ourselves', () => {
    const l = lookup({
      seeds: [...contacts(60, 10, 50, 20, 40, 30, 10), contact(5)],
      localId: idOf(5),
      paths: 3,
      alpha: 5,
    });
    l.nextRequests();
    const byPath = [0, 1, 2].map((p) => [10, 20, 30, 40, 50, 60].filter((n) => l.pathOf(idOf(n)) === p));
    expect(byPath).toEqual([
      [10, 40],
      [20, 50],
      [30, 60],
    ]);
    expect(l.pathOf(idOf(5))).toBeUndefined();
  });

  it('keeps alpha requests in flight per path, and a slow one frees its path slot', () => {
    const l = lookup({ seeds: contacts(10, 20, 30, 40, 50, 60), alpha: 2 });
    expect(numbers(l.nextRequests()).sort((a, b) => a - b)).toEqual([10, 20, 30, 40]);
    expect(l.nextRequests()).toEqual([]);
    l.onSlow(idOf(10));
    expect(numbers(l.nextRequests())).toEqual([50]);
    expect(l.pathOf(idOf(50))).toBe(0);
    expect(l.stats).toMatchObject({ requests: 5, slow: 1 });
  });

  it('learns on a path only from the nodes that path asked', () => {
    const l = lookup({ seeds: contacts(10, 20) });
    l.nextRequests();
    l.onResponse(idOf(10), contacts(3));
    expect(numbers(l.nextRequests())).toEqual([3]);
    expect(l.pathOf(idOf(3))).toBe(l.pathOf(idOf(10)));
  });

  it('never asks a node twice: the path that asks first owns it, to the others it is out of reach', () => {
    const l = lookup({ seeds: contacts(10, 20), k: 2, alpha: 2 });
    expect(numbers(l.nextRequests()).sort((a, b) => a - b)).toEqual([10, 20]);
    // Both paths learn node 3. The second call lets path 1 (seed 20) ask first.
    l.onResponse(idOf(10), contacts(3));
    l.onResponse(idOf(20), contacts(3, 7));
    expect(numbers(l.nextRequests())).toEqual([3, 7]);
    expect([l.pathOf(idOf(3)), l.pathOf(idOf(7))]).toEqual([1, 1]);
    expect(l.nextRequests()).toEqual([]);
    l.onResponse(idOf(3), []);
    l.onResponse(idOf(7), []);
    expect(l.finishReason).toBe('converged');
    expect(l.pathResults().map(numbers)).toEqual([[10], [3, 7]]);
    expect(numbers(l.closest())).toEqual([3, 7]);
    // Node 3 was out of path 0's reach, not a failure.
    expect(l.stats.failures).toBe(0);
  });

  it('finishes a path when all it still wanted was claimed by another path', () => {
    const l = lookup({ seeds: contacts(10, 20), k: 1, paths: 2 });
    const first = numbers(l.nextRequests());
    expect(first.sort((a, b) => a - b)).toEqual([10, 20]);
    l.onResponse(idOf(10), contacts(3));
    l.onResponse(idOf(20), contacts(3));
    const [asker] = numbers(l.nextRequests());
    expect(asker).toBe(3);
    expect(l.isDone()).toBe(false);
    l.onResponse(idOf(3), []);
    // The other path's nearest answer is its seed; node 3 is not its to ask.
    expect(l.isDone()).toBe(true);
    expect(l.finishReason).toBe('converged');
    expect(numbers(l.closest())).toEqual([3]);
  });

  it('returns the k nearest answers across paths, and each path its own', () => {
    const l = lookup({ seeds: contacts(10, 20, 30, 40), k: 2, alpha: 2 });
    l.nextRequests();
    for (const n of [10, 20, 30, 40]) l.onResponse(idOf(n), []);
    expect(l.isDone()).toBe(true);
    expect(numbers(l.closest())).toEqual([10, 20]);
    expect(l.pathResults().map(numbers)).toEqual([
      [10, 30],
      [20, 40],
    ]);
  });

  it('is exhausted at once without seeds, and when every node fails', () => {
    expect(lookup({ seeds: [] }).finishReason).toBe('exhausted');
    const l = lookup({ seeds: contacts(1, 2) });
    l.nextRequests();
    l.onFailure(idOf(1));
    expect(l.isDone()).toBe(false);
    l.onFailure(idOf(2));
    expect(l.finishReason).toBe('exhausted');
    expect(l.stats.failures).toBe(2);
  });

  it('applies the RPC budget to each path and reports budget once nothing is in flight', () => {
    const l = lookup({ seeds: contacts(100, 200), maxRpcs: 2, k: 3 });
    l.nextRequests();
    l.onResponse(idOf(100), contacts(50, 40));
    l.onResponse(idOf(200), contacts(60, 30));
    const second = numbers(l.nextRequests()).sort((a, b) => a - b);
    expect(second).toEqual([30, 40]);
    expect(l.nextRequests()).toEqual([]);
    l.onResponse(idOf(30), []);
    expect(l.isDone()).toBe(false);
    l.onResponse(idOf(40), []);
    expect(l.finishReason).toBe('budget');
    expect(l.stats.requests).toBe(4);
  });

  it('ignores unknown, repeated and late events', () => {
    const l = lookup({ seeds: contacts(1, 2), k: 1 });
    l.nextRequests();
    l.onResponse(idOf(99), contacts(0));
    l.onResponse(new Uint8Array(3), []);
    l.onFailure(idOf(98));
    l.onSlow(idOf(97));
    l.onResponse(idOf(1), []);
    l.onResponse(idOf(1), contacts(0));
    l.onResponse(idOf(2), []);
    expect(l.isDone()).toBe(true);
    const before = { stats: l.stats, closest: numbers(l.closest()) };
    l.onFailure(idOf(1));
    l.onResponse(idOf(2), contacts(0));
    expect(l.nextRequests()).toEqual([]);
    expect({ stats: l.stats, closest: numbers(l.closest()) }).toEqual(before);
  });

  it('sums stats over its paths and reports its duration from the injected clock', () => {
    let now = 1_000;
    const l = lookup({ seeds: contacts(10, 20), now: () => now });
    l.nextRequests();
    l.onResponse(idOf(10), contacts(5));
    l.onFailure(idOf(20));
    now = 1_250;
    l.nextRequests();
    l.onResponse(idOf(5), []);
    expect(l.stats).toEqual({ requests: 3, responses: 2, failures: 1, slow: 0, maxHops: 2, durationMs: 250 });
    expect(l.pathStats.map((s) => s.requests)).toEqual([2, 1]);
  });

  it('rejects nonsense options with CONFIG_INVALID', () => {
    const bad: Partial<DisjointLookupOptions>[] = [
      { paths: 0 },
      { paths: 1.5 },
      { alpha: 0 },
      { k: -1 },
      { maxRpcs: -1 },
      { target: new Uint8Array(5) },
    ];
    for (const options of bad) {
      let thrown: unknown;
      try {
        lookup({ seeds: [], ...options });
      } catch (err) {
        thrown = err;
      }
      expect(isKademliaError(thrown, 'CONFIG_INVALID')).toBe(true);
    }
  });

  it('with one path asks exactly what ClosestLookup asks, in the same order', () => {
    const random = prng(0xd1);
    const network = buildOracleNetwork({ nodes: 400, k: 8, random });
    const { ids, contacts: all, indexOf, knowledge } = network;
    for (let run = 0; run < 20; run++) {
      const goal = randomIdFrom(random);
      const self = Math.floor(random() * ids.length);
      const seeds = nearest(ids, knowledge[self], goal, 8).map((i) => all[i]);
      const options = { target: goal, seeds, k: 8, alpha: 3, localId: ids[self] };
      const transcript = (l: LookupStateMachine) => {
        const replyOrder = prng(run);
        const asked: number[] = [];
        const pending: Contact[] = [];
        for (;;) {
          for (const c of l.nextRequests()) {
            asked.push(indexOf.get(c)!);
            pending.push(c);
          }
          if (l.isDone() || pending.length === 0) break;
          const [c] = pending.splice(Math.floor(replyOrder() * pending.length), 1);
          const index = indexOf.get(c)!;
          if (index % 7 === 0) l.onFailure(c.id);
          else
            l.onResponse(
              c.id,
              nearest(ids, knowledge[index], goal, 8).map((i) => all[i]),
            );
        }
        return { asked, closest: l.closest(), reason: l.finishReason };
      };
      const single = transcript(new ClosestLookup(options));
      const disjoint = transcript(new DisjointLookup({ ...options, paths: 1 }));
      expect(disjoint).toEqual(single);
    }
  });

  it('keeps the paths disjoint under any replies, failures and slow marks', () => {
    const universe = 60;
    const arbitraryRun = fc.record({
      paths: fc.integer({ min: 1, max: 5 }),
      alpha: fc.integer({ min: 1, max: 3 }),
      k: fc.integer({ min: 1, max: 6 }),
      seeds: fc.uniqueArray(fc.integer({ min: 1, max: universe }), { maxLength: 12 }),
      // What each node answers: a handful of other nodes (many nodes mention the same ones).
      replies: fc.array(fc.array(fc.integer({ min: 1, max: universe }), { maxLength: 6 }), {
        minLength: universe + 1,
        maxLength: universe + 1,
      }),
      steps: fc.array(fc.tuple(fc.nat(), fc.constantFrom('answer', 'fail', 'slow')), { maxLength: 300 }),
    });
    fc.assert(
      fc.property(arbitraryRun, ({ paths, alpha, k, seeds, replies, steps }) => {
        const l = new DisjointLookup({ target, seeds: contacts(...seeds), paths, alpha, k });
        const asked = new Set<number>();
        // Which paths were told about each node: by the seed deal or by a reply to that path's request.
        const toldTo = new Map<number, Set<number>>();
        const tell = (n: number, path: number) => toldTo.set(n, (toldTo.get(n) ?? new Set()).add(path));
        const seedOrder = [...new Set(seeds)].sort((a, b) => a - b);
        seedOrder.forEach((n, i) => tell(n, i % paths));
        const pending: number[] = [];
        const ask = () => {
          for (const n of numbers(l.nextRequests())) {
            expect(asked.has(n)).toBe(false);
            asked.add(n);
            pending.push(n);
            expect(toldTo.get(n)?.has(l.pathOf(idOf(n))!)).toBe(true);
          }
        };
        ask();
        for (const [pick, action] of steps) {
          if (l.isDone() || pending.length === 0) break;
          const n = pending[pick % pending.length];
          if (action === 'slow') l.onSlow(idOf(n));
          else {
            pending.splice(pending.indexOf(n), 1);
            if (action === 'fail') l.onFailure(idOf(n));
            else {
              const path = l.pathOf(idOf(n))!;
              replies[n].forEach((m) => tell(m, path));
              l.onResponse(idOf(n), contacts(...replies[n]));
            }
          }
          ask();
        }
        // Every asked node belongs to exactly one path, and no node is in two paths' results.
        const results = l.pathResults().map(numbers);
        const flat = results.flat();
        expect(new Set(flat).size).toBe(flat.length);
        results.forEach((result, p) => result.forEach((n) => expect(l.pathOf(idOf(n))).toBe(p)));
        for (const n of asked) expect(l.pathOf(idOf(n))).toBeDefined();
        // The merged result is the k nearest of all the paths' answers.
        const merged = numbers(l.closest());
        expect(merged).toEqual([...flat].sort((a, b) => a - b).slice(0, k));
        expect(l.stats.requests).toBe(asked.size);
        // Answering everything still pending always lets it finish.
        while (!l.isDone() && pending.length > 0) {
          l.onResponse(idOf(pending.shift()!), []);
          ask();
        }
        expect(l.isDone()).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('orders its merged result by distance to a random target', () => {
    const random = prng(7);
    const goal = randomIdFrom(random);
    const seeds = Array.from(
      { length: 12 },
      (_, i): Contact => ({ ...contact(i), id: randomIdFrom(random) }),
    );
    const l = new DisjointLookup({ target: goal, seeds, paths: 3, k: 5, alpha: 4 });
    for (const c of l.nextRequests()) l.onResponse(c.id, []);
    const result = l.closest();
    expect(result).toHaveLength(5);
    for (let i = 1; i < result.length; i++)
      expect(compareDistance(goal, result[i - 1].id, result[i].id)).toBeLessThan(0);
  });
});
