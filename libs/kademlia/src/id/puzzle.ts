import { sha256 } from '@noble/hashes/sha2';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { generateIdentity, type Identity } from './identity';
import { isNodeId, type NodeId } from './node-id';

/**
 * S/Kademlia's static crypto puzzle (Baumgart & Mies 2007, §4.1): an ID is valid only if SHA-256 of it
 * starts with `difficulty` zero bits. The ID is already SHA-1 of a public key, so satisfying the puzzle
 * means generating about 2^difficulty key pairs; checking it costs one hash (~1 µs). That makes IDs
 * expensive to mass-produce and, more to the point, makes placing an ID next to a chosen target (to
 * eclipse it) 2^difficulty times dearer. It is a speed bump, not a wall: at difficulty 12 one key costs
 * ~0.1-0.2 s of CPU, so IP diversity remains the main Sybil defence.
 *
 * @noble/hashes' sha256 over 20 bytes measured 0.84-0.88 µs per call on the dev machine (Node 20), against
 * 0.87-0.94 µs for node:crypto createHash; the same speed, but noble needs no hash object per call.
 * One X25519 identity (generateIdentity: keygen + JWK export + SHA-1) measured ~24 µs there, and up to
 * ~45 µs on slower cores, so grinding costs about 2^difficulty × 25-45 µs: difficulty 8 ≈ 10 ms,
 * 12 ≈ 0.1-0.2 s, 16 ≈ 2-3 s, 20 ≈ 30-50 s, 24 ≈ 7-12 min.
 */

/** The puzzle hash has 256 bits; a larger difficulty could never be met. */
export const MAX_PUZZLE_DIFFICULTY = 256;

/** Default attempt budget in expected attempts: the odds of failing at 64 × 2^d are e^-64, i.e. never. */
const ATTEMPT_BUDGET_FACTOR = 64;

/** Leading zero bits of SHA-256(nodeId): the difficulty this ID meets. 0 for anything but a 20-byte ID. */
export function puzzleBits(nodeId: NodeId): number {
  if (!isNodeId(nodeId)) return 0;
  const digest = sha256(nodeId);
  for (let i = 0; i < digest.length; i++) {
    if (digest[i] !== 0) return i * 8 + Math.clz32(digest[i]) - 24;
  }
  return MAX_PUZZLE_DIFFICULTY;
}

/**
 * Does nodeId meet the network's difficulty? A malformed ID never does. Difficulty 0 accepts every
 * well-formed ID without hashing, so a network without the puzzle pays nothing.
 */
export function satisfiesPuzzle(nodeId: NodeId, difficulty: number): boolean {
  checkPuzzleDifficulty(difficulty);
  if (!isNodeId(nodeId)) return false;
  return difficulty === 0 || puzzleBits(nodeId) >= difficulty;
}

/** Identities generated on average before one meets the difficulty. */
export function expectedPuzzleAttempts(difficulty: number): number {
  return 2 ** checkPuzzleDifficulty(difficulty);
}

/** Throws CONFIG_INVALID unless difficulty is an integer 0-256; returns it. */
export function checkPuzzleDifficulty(difficulty: number): number {
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_PUZZLE_DIFFICULTY) {
    throw new KademliaError(
      `puzzle difficulty must be an integer 0-${MAX_PUZZLE_DIFFICULTY}`,
      'CONFIG_INVALID',
      { difficulty },
    );
  }
  return difficulty;
}

export interface PuzzleIdentityOptions {
  /** Leading zero bits SHA-256(NodeId) must have (the network's idPuzzleDifficulty). */
  difficulty: number;
  /** Identities tried before giving up with ID_PUZZLE_EXHAUSTED; default 64 × 2^difficulty. */
  maxAttempts?: number;
  /** Aborting rejects with ID_PUZZLE_ABORTED; the sync variant can only see an abort made before it ran. */
  signal?: AbortSignal;
  /** Makes one candidate identity; default generateIdentity (X25519). */
  generate?: () => Identity;
}

export interface AsyncPuzzleIdentityOptions extends PuzzleIdentityOptions {
  /** Identities tried between yields to the event loop (default DEFAULTS.idPuzzleYieldEvery). */
  yieldEvery?: number;
  /** How to yield; default a setImmediate turn, which lets I/O and timers run. Tests may inject one. */
  yieldToEventLoop?: () => Promise<void>;
}

export interface PuzzleIdentity {
  readonly identity: Identity;
  /** Identities generated, the successful one included. */
  readonly attempts: number;
}

/**
 * Generates identities until one's NodeId meets the difficulty. Blocks the thread for the whole search:
 * fine in a CLI or at start-up for difficulties up to ~14; a server should use the async variant.
 */
export function generatePuzzleIdentity(options: PuzzleIdentityOptions): PuzzleIdentity {
  const search = new PuzzleSearch(options);
  for (;;) {
    const found = search.step(Infinity);
    if (found) return found;
  }
}

/** generatePuzzleIdentity() that yields to the event loop every `yieldEvery` identities. */
export async function generatePuzzleIdentityAsync(
  options: AsyncPuzzleIdentityOptions,
): Promise<PuzzleIdentity> {
  const search = new PuzzleSearch(options);
  const yieldEvery = options.yieldEvery ?? DEFAULTS.idPuzzleYieldEvery;
  if (!Number.isInteger(yieldEvery) || yieldEvery < 1) {
    throw new KademliaError('yieldEvery must be an integer >= 1', 'CONFIG_INVALID', { yieldEvery });
  }
  const yieldNow = options.yieldToEventLoop ?? nextTurn;
  for (;;) {
    const found = search.step(yieldEvery);
    if (found) return found;
    await yieldNow();
  }
}

/** The grinding loop shared by both variants; step() runs a slice of at most `slice` attempts. */
class PuzzleSearch {
  private readonly difficulty: number;
  private readonly maxAttempts: number;
  private readonly signal?: AbortSignal;
  private readonly generate: () => Identity;
  private attempts = 0;

  constructor(options: PuzzleIdentityOptions) {
    this.difficulty = checkPuzzleDifficulty(options.difficulty);
    this.maxAttempts = options.maxAttempts ?? ATTEMPT_BUDGET_FACTOR * 2 ** this.difficulty;
    if (!(this.maxAttempts === Infinity || (Number.isInteger(this.maxAttempts) && this.maxAttempts >= 1))) {
      throw new KademliaError('maxAttempts must be an integer >= 1 or Infinity', 'CONFIG_INVALID', {
        maxAttempts: this.maxAttempts,
      });
    }
    this.signal = options.signal;
    this.generate = options.generate ?? generateIdentity;
  }

  /** A found identity, undefined when the slice ended without one; throws on abort or exhaustion. */
  step(slice: number): PuzzleIdentity | undefined {
    for (let i = 0; i < slice; i++) {
      if (this.signal?.aborted) {
        throw new KademliaError('puzzle identity search aborted', 'ID_PUZZLE_ABORTED', {
          attempts: this.attempts,
        });
      }
      if (this.attempts >= this.maxAttempts) {
        throw new KademliaError(
          `no identity met puzzle difficulty ${this.difficulty} in ${this.attempts} attempts`,
          'ID_PUZZLE_EXHAUSTED',
          { difficulty: this.difficulty, attempts: this.attempts },
        );
      }
      this.attempts++;
      const identity = this.generate();
      if (satisfiesPuzzle(identity.nodeId, this.difficulty)) return { identity, attempts: this.attempts };
    }
    return undefined;
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
