import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { isKademliaError, type KademliaError } from '../errors';
import type { Identity } from './identity';
import { nodeIdFromPublicKey } from './key-id';
import type { NodeId } from './node-id';
import {
  checkPuzzleDifficulty,
  expectedPuzzleAttempts,
  generatePuzzleIdentity,
  generatePuzzleIdentityAsync,
  puzzleBits,
  satisfiesPuzzle,
} from './puzzle';

/** Leading zero bits of SHA-256, computed another way (node:crypto and a bit string). */
function referenceBits(id: Uint8Array): number {
  const bits = [...createHash('sha256').update(id).digest()]
    .map((b) => b.toString(2).padStart(8, '0'))
    .join('');
  const first = bits.indexOf('1');
  return first === -1 ? 256 : first;
}

/** A random 20-byte ID whose puzzle bits satisfy `accept`; found by hashing random IDs (cheap). */
function idWithBits(accept: (bits: number) => boolean): NodeId {
  for (;;) {
    const id = new Uint8Array(randomBytes(20));
    if (accept(referenceBits(id))) return id;
  }
}

/** An identity with a chosen NodeId; the puzzle only looks at the ID. */
function fakeIdentity(nodeId: NodeId): Identity {
  return { nodeId, publicKey: new Uint8Array(32), privateKey: {} as KeyObject };
}

/** A generator handing out the given identities in order, counting calls. */
function scripted(ids: NodeId[]): { generate: () => Identity; calls: () => number } {
  let calls = 0;
  return {
    generate: () => fakeIdentity(ids[calls++ % ids.length]),
    calls: () => calls,
  };
}

async function rejection(promise: Promise<unknown>): Promise<KademliaError> {
  try {
    await promise;
  } catch (err) {
    return err as KademliaError;
  }
  throw new Error('expected a rejection');
}

function thrown(fn: () => unknown): KademliaError {
  try {
    fn();
  } catch (err) {
    return err as KademliaError;
  }
  throw new Error('expected a throw');
}

describe('puzzleBits / satisfiesPuzzle', () => {
  it('counts the leading zero bits of SHA-256(nodeId) exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.integer({ min: 0, max: 24 }),
        (id, d) => {
          const bits = referenceBits(id);
          expect(puzzleBits(id)).toBe(bits);
          expect(satisfiesPuzzle(id, d)).toBe(bits >= d);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('accepts an ID at exactly its number of zero bits and refuses it one bit higher', () => {
    const id = idWithBits((bits) => bits >= 6);
    const bits = puzzleBits(id);
    expect(satisfiesPuzzle(id, bits)).toBe(true);
    expect(satisfiesPuzzle(id, bits + 1)).toBe(false);
    const none = idWithBits((b) => b === 0);
    expect(puzzleBits(none)).toBe(0);
    expect(satisfiesPuzzle(none, 1)).toBe(false);
  });

  it('difficulty 0 accepts every well-formed ID; a malformed ID never satisfies', () => {
    expect(satisfiesPuzzle(new Uint8Array(20).fill(0xff), 0)).toBe(true);
    for (const bad of [new Uint8Array(19), new Uint8Array(32), 'x'.repeat(20), undefined]) {
      expect(satisfiesPuzzle(bad as unknown as NodeId, 0)).toBe(false);
      expect(puzzleBits(bad as unknown as NodeId)).toBe(0);
    }
  });

  it('refuses a difficulty outside 0-256 as CONFIG_INVALID', () => {
    for (const bad of [-1, 1.5, 257, NaN, Infinity]) {
      expect(
        isKademliaError(
          thrown(() => satisfiesPuzzle(new Uint8Array(20), bad)),
          'CONFIG_INVALID',
        ),
      ).toBe(true);
    }
    expect(checkPuzzleDifficulty(256)).toBe(256);
    expect(expectedPuzzleAttempts(12)).toBe(4096);
    expect(expectedPuzzleAttempts(0)).toBe(1);
  });
});

describe('generatePuzzleIdentity', () => {
  it('grinds real X25519 identities to difficulty 8 and reports the attempts', () => {
    const { identity, attempts } = generatePuzzleIdentity({ difficulty: 8 });
    expect(puzzleBits(identity.nodeId)).toBeGreaterThanOrEqual(8);
    expect(identity.nodeId).toEqual(nodeIdFromPublicKey(identity.publicKey));
    expect(attempts).toBeGreaterThanOrEqual(1);
  });

  it('difficulty 0 takes the first identity', () => {
    const script = scripted([idWithBits((b) => b === 0)]);
    expect(generatePuzzleIdentity({ difficulty: 0, generate: script.generate }).attempts).toBe(1);
  });

  it('returns the first identity that meets the difficulty, counting every one generated', () => {
    const misses = Array.from({ length: 4 }, () => idWithBits((b) => b < 4));
    const hit = idWithBits((b) => b >= 4);
    const script = scripted([...misses, hit, idWithBits((b) => b >= 4)]);
    const found = generatePuzzleIdentity({ difficulty: 4, generate: script.generate });
    expect(found.identity.nodeId).toEqual(hit);
    expect(found.attempts).toBe(5);
    expect(script.calls()).toBe(5);
  });

  it('gives up with ID_PUZZLE_EXHAUSTED after maxAttempts', () => {
    const script = scripted([idWithBits((b) => b < 8)]);
    const err = thrown(() =>
      generatePuzzleIdentity({ difficulty: 8, maxAttempts: 7, generate: script.generate }),
    );
    expect(isKademliaError(err, 'ID_PUZZLE_EXHAUSTED')).toBe(true);
    expect(err.details).toEqual({ difficulty: 8, attempts: 7 });
    expect(script.calls()).toBe(7);
  });

  it('does not start when the signal is already aborted', () => {
    const script = scripted([idWithBits(() => true)]);
    const controller = new AbortController();
    controller.abort();
    const err = thrown(() =>
      generatePuzzleIdentity({ difficulty: 1, signal: controller.signal, generate: script.generate }),
    );
    expect(isKademliaError(err, 'ID_PUZZLE_ABORTED')).toBe(true);
    expect(script.calls()).toBe(0);
  });

  it('refuses a nonsense attempt budget as CONFIG_INVALID', () => {
    for (const maxAttempts of [0, -3, 2.5]) {
      expect(
        isKademliaError(
          thrown(() => generatePuzzleIdentity({ difficulty: 1, maxAttempts })),
          'CONFIG_INVALID',
        ),
      ).toBe(true);
    }
  });
});

describe('generatePuzzleIdentityAsync', () => {
  it('grinds real identities to difficulty 8', async () => {
    const { identity, attempts } = await generatePuzzleIdentityAsync({ difficulty: 8 });
    expect(satisfiesPuzzle(identity.nodeId, 8)).toBe(true);
    expect(attempts).toBeGreaterThanOrEqual(1);
  });

  it('yields to the event loop after every yieldEvery identities', async () => {
    const miss = idWithBits((b) => b < 6);
    const hit = idWithBits((b) => b >= 6);
    const script = scripted([...Array<NodeId>(9).fill(miss), hit]);
    const yieldsAt: number[] = [];
    const found = await generatePuzzleIdentityAsync({
      difficulty: 6,
      yieldEvery: 3,
      generate: script.generate,
      yieldToEventLoop: async () => {
        yieldsAt.push(script.calls());
      },
    });
    expect(found.attempts).toBe(10);
    expect(yieldsAt).toEqual([3, 6, 9]);
  });

  it('stops at the next yield once aborted, with ID_PUZZLE_ABORTED', async () => {
    const script = scripted([idWithBits((b) => b < 8)]);
    const controller = new AbortController();
    let yields = 0;
    const err = await rejection(
      generatePuzzleIdentityAsync({
        difficulty: 8,
        yieldEvery: 4,
        signal: controller.signal,
        generate: script.generate,
        yieldToEventLoop: async () => {
          if (++yields === 2) controller.abort();
        },
      }),
    );
    expect(isKademliaError(err, 'ID_PUZZLE_ABORTED')).toBe(true);
    expect(err.details).toEqual({ attempts: 8 });
    expect(script.calls()).toBe(8);
  });

  it('lets other callbacks run between slices, so an abort from elsewhere lands', async () => {
    const script = scripted([idWithBits((b) => b < 16)]);
    const controller = new AbortController();
    const search = generatePuzzleIdentityAsync({
      difficulty: 16,
      yieldEvery: 50,
      signal: controller.signal,
      generate: script.generate,
    });
    // The first slice ran inside the call and queued its yield; this callback queues behind it, so the
    // second slice runs, then the abort, and the third slice never starts.
    setImmediate(() => controller.abort());
    const err = await rejection(search);
    expect(isKademliaError(err, 'ID_PUZZLE_ABORTED')).toBe(true);
    expect(script.calls()).toBe(100);
  });

  it('gives up with ID_PUZZLE_EXHAUSTED after maxAttempts, and refuses a nonsense yieldEvery', async () => {
    const script = scripted([idWithBits((b) => b < 8)]);
    const err = await rejection(
      generatePuzzleIdentityAsync({
        difficulty: 8,
        maxAttempts: 10,
        yieldEvery: 4,
        generate: script.generate,
      }),
    );
    expect(isKademliaError(err, 'ID_PUZZLE_EXHAUSTED')).toBe(true);
    expect(script.calls()).toBe(10);
    const bad = await rejection(generatePuzzleIdentityAsync({ difficulty: 1, yieldEvery: 0 }));
    expect(isKademliaError(bad, 'CONFIG_INVALID')).toBe(true);
  });
});
