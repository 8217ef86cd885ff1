import { Encoder } from 'cbor-x';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, WIRE_DROP_REASONS } from './codec';
import { messageArb } from './test/message-arbitraries';
import vectors from '../../test-vectors/wire.json';
import { createRandom } from '../sim/random';

/**
 * Hostile-input fuzzing of the decoder: 100,000+ inputs derived from valid encodings by bit flips,
 * truncation, extension, splicing and byte overwrites, plus pure noise. Seeded, so a failure reproduces.
 */

const cborx = new Encoder({ useRecords: false, tagUint8Array: false });

// Bytes that are CBOR heads of special interest: length prefixes, indefinite markers, tags, floats, break.
const INTERESTING = [
  0x00, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x40, 0x5f, 0x80, 0x9f, 0xa0, 0xc0, 0xd8, 0xf9, 0xfb, 0xff,
];

function mutate(random: () => number, seeds: Uint8Array[]): Uint8Array {
  const pick = (n: number): number => Math.floor(random() * n);
  const base = seeds[pick(seeds.length)];
  switch (pick(7)) {
    case 0: {
      const out = base.slice();
      for (let flips = 1 + pick(3); flips > 0; flips--) out[pick(out.length)] ^= 1 << pick(8);
      return out;
    }
    case 1:
      return base.slice(0, pick(base.length));
    case 2: {
      const out = new Uint8Array(base.length + 1 + pick(16));
      out.set(base);
      for (let i = base.length; i < out.length; i++) out[i] = pick(256);
      return out;
    }
    case 3: {
      const other = seeds[pick(seeds.length)];
      const head = base.subarray(0, pick(base.length + 1));
      const tail = other.subarray(pick(other.length + 1));
      const out = new Uint8Array(head.length + tail.length);
      out.set(head);
      out.set(tail, head.length);
      return out;
    }
    case 4: {
      const out = base.slice();
      for (let n = 1 + pick(2); n > 0; n--) out[pick(out.length)] = INTERESTING[pick(INTERESTING.length)];
      return out;
    }
    case 5: {
      const out = base.slice();
      const at = pick(out.length);
      out.copyWithin(at, pick(out.length));
      return out;
    }
    default: {
      const out = new Uint8Array(pick(64));
      for (let i = 0; i < out.length; i++) out[i] = pick(256);
      return out;
    }
  }
}

describe('decoder robustness', () => {
  it('never throws on 100,000 mutated inputs, and only accepts the canonical encoding of a valid message', () => {
    const seeds = [
      ...vectors.filter((v) => !('packet' in v)).map((v) => new Uint8Array(Buffer.from(v.hex, 'hex'))),
      ...fc.sample(messageArb, { numRuns: 300, seed: 42 }).map((m) => new Uint8Array(encodeMessage(m))),
    ];
    const random = createRandom(0x6b6164);
    const known = new Set<string>(WIRE_DROP_REASONS);
    const reasons = new Map<string, number>();
    const problems: string[] = [];
    let accepted = 0;

    for (let i = 0; i < 100_000; i++) {
      const input = mutate(random, seeds);
      try {
        const result = decodeMessage(input);
        if (result.ok) {
          accepted++;
          // One byte form per message: whatever the decoder accepts, the encoder writes back bit for bit.
          const again = Buffer.from(encodeMessage(result.message));
          if (!again.equals(input))
            problems.push(`accepted non-canonical ${Buffer.from(input).toString('hex')}`);
          // And it is plain CBOR: the reference implementation reads it and writes the same bytes.
          const reference = Buffer.from(cborx.encode(cborx.decode(input)));
          if (!reference.equals(input))
            problems.push(`cbor-x disagrees on ${Buffer.from(input).toString('hex')}`);
        } else {
          reasons.set(result.reason, (reasons.get(result.reason) ?? 0) + 1);
          if (!known.has(result.reason)) problems.push(`unknown reason ${result.reason}`);
        }
      } catch (err) {
        problems.push(`threw ${String(err)} on ${Buffer.from(input).toString('hex')}`);
      }
      if (problems.length > 5) break;
    }

    expect(problems).toEqual([]);
    // The mutations reach deep into messages, not just the first byte: most reasons occur.
    expect(accepted).toBeGreaterThan(1_000);
    expect(reasons.size).toBeGreaterThanOrEqual(12);
  });
});
