/**
 * A seedable pseudo-random generator (mulberry32: a 32-bit state advanced by a Weyl step and mixed by
 * multiply-xorshift). Not for cryptography: it only makes simulations repeat exactly for a given seed.
 * Returns floats in [0, 1) with 32 bits of randomness, like Math.random's contract.
 */
export function createRandom(seed: number): () => number {
  // Any number is a valid seed; non-integers and huge values are folded into 32 bits.
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}
