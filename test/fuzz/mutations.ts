import { randomBytes } from 'node:crypto';

/** Random junk, or a valid packet bit-flipped, truncated, extended or spliced with another. */
export function fuzzPacket(samples: readonly Uint8Array[], i: number, keepPrefixBytes: number): Uint8Array {
  const base = samples[i % samples.length];
  switch (i % 6) {
    case 0:
      return new Uint8Array(randomBytes(Math.floor(Math.random() * 1300)));
    case 1: {
      const out = Uint8Array.from(base);
      for (let flips = 1 + Math.floor(Math.random() * 4); flips > 0; flips--) {
        out[Math.floor(Math.random() * out.length)] ^= 1 << Math.floor(Math.random() * 8);
      }
      return out;
    }
    case 2:
      return base.subarray(0, Math.floor(Math.random() * base.length));
    case 3: {
      const extra = randomBytes(1 + Math.floor(Math.random() * 64));
      return Uint8Array.from([...base, ...extra]);
    }
    case 4: {
      const other = samples[(i * 7) % samples.length];
      const cut = Math.floor(Math.random() * Math.min(base.length, other.length));
      return Uint8Array.from([...base.subarray(0, cut), ...other.subarray(cut)]);
    }
    default: {
      // A valid header (and sender key or session index) followed by random bytes: reaches the inner decoders.
      const out = Uint8Array.from(base.subarray(0, keepPrefixBytes + Math.floor(Math.random() * 40)));
      return Uint8Array.from([...out, ...randomBytes(Math.floor(Math.random() * 200))]);
    }
  }
}

export function waitForDrain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
