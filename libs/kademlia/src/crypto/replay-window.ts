import { DEFAULTS } from '../config/defaults';

const WORD_BITS = 32;

/**
 * Which message counters of a session were already accepted (RFC 6479's sliding bitmap, as WireGuard uses):
 * any counter above the highest seen is new; one within `windowBits` below it is new unless its bit is
 * set; anything older is refused. A ring of 32-bit words moves with the highest counter, so checking and
 * marking cost O(1) and never allocate. Counters must stay within Number.MAX_SAFE_INTEGER.
 *
 * Check first, decrypt, mark only after the tag verified: a forged packet must not move the window.
 */
export class ReplayWindow {
  private readonly words: Uint32Array;
  private readonly wordCount: number;
  /** Counters this far below the highest are refused; one word of the ring is always being recycled. */
  readonly windowBits: number;
  private highest = -1;

  constructor(windowBits: number = DEFAULTS.replayWindowBits) {
    if (!Number.isInteger(windowBits) || windowBits < WORD_BITS || windowBits % WORD_BITS !== 0) {
      throw new RangeError(`replay window must be a positive multiple of 32 bits: ${windowBits}`);
    }
    this.windowBits = windowBits;
    this.wordCount = windowBits / WORD_BITS + 1;
    this.words = new Uint32Array(this.wordCount);
  }

  /** The greatest counter marked so far, -1 before any. */
  get highestSeen(): number {
    return this.highest;
  }

  /** 'ok', or why the counter must be refused; does not change the window. */
  check(counter: number): 'ok' | 'duplicate' | 'too_old' | 'invalid' {
    if (!Number.isSafeInteger(counter) || counter < 0) return 'invalid';
    if (counter > this.highest) return 'ok';
    if (this.highest - counter >= this.windowBits) return 'too_old';
    const word = this.words[Math.floor(counter / WORD_BITS) % this.wordCount];
    return (word & (1 << counter % WORD_BITS)) !== 0 ? 'duplicate' : 'ok';
  }

  /** Records an accepted counter; call only after check() said 'ok' and the packet authenticated. */
  mark(counter: number): void {
    const index = Math.floor(counter / WORD_BITS);
    if (counter > this.highest) {
      const current = this.highest < 0 ? -1 : Math.floor(this.highest / WORD_BITS);
      // Words the window slides over are cleared; a jump further than the ring clears all of it.
      const advance = Math.min(index - current, this.wordCount);
      for (let i = 1; i <= advance; i++) this.words[(current + i) % this.wordCount] = 0;
      this.highest = counter;
    }
    this.words[index % this.wordCount] |= 1 << counter % WORD_BITS;
  }
}
