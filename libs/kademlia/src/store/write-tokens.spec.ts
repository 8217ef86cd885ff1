import fc from 'fast-check';
import { WriteTokens } from './write-tokens';

const ROTATION = 1000;
const alice = { host: '192.0.2.10', port: 6881 };

function tokensAt(start: number) {
  let t = start;
  const tokens = new WriteTokens({ now: () => t, rotationMs: ROTATION });
  return { tokens, setTime: (ms: number) => (t = ms) };
}

describe('WriteTokens', () => {
  it('issues 16-byte tokens that verify for the same ip and port only', () => {
    const { tokens } = tokensAt(0);
    const token = tokens.issue(alice);
    expect(token).toBeInstanceOf(Uint8Array);
    expect(token.length).toBe(16);
    expect(tokens.verify(alice, token)).toBe(true);
    expect(tokens.verify({ host: '192.0.2.11', port: 6881 }, token)).toBe(false);
    expect(tokens.verify({ host: '192.0.2.10', port: 6882 }, token)).toBe(false);
  });

  it('works for IPv6 endpoints and keeps them distinct from IPv4 ones', () => {
    const { tokens } = tokensAt(0);
    const v6 = { host: '2001:db8::1', port: 6881 };
    expect(tokens.verify(v6, tokens.issue(v6))).toBe(true);
    expect(tokens.verify(alice, tokens.issue(v6))).toBe(false);
  });

  it('rejects tokens of the wrong length or with any bit flipped', () => {
    const { tokens } = tokensAt(0);
    const token = tokens.issue(alice);
    expect(tokens.verify(alice, token.subarray(0, 15))).toBe(false);
    expect(tokens.verify(alice, new Uint8Array([...token, 0]))).toBe(false);
    expect(tokens.verify(alice, new Uint8Array(0))).toBe(false);
    for (let bit = 0; bit < 128; bit += 7) {
      const tampered = new Uint8Array(token);
      tampered[bit >> 3] ^= 1 << (bit & 7);
      expect(tokens.verify(alice, tampered)).toBe(false);
    }
  });

  it('does not accept tokens from another node (secrets are random per instance)', () => {
    const a = tokensAt(0).tokens;
    const b = tokensAt(0).tokens;
    expect(b.verify(alice, a.issue(alice))).toBe(false);
  });

  it('accepts a token through the next rotation and rejects it after the one after', () => {
    const { tokens, setTime } = tokensAt(500);
    const token = tokens.issue(alice);
    setTime(1999);
    expect(tokens.verify(alice, token)).toBe(true);
    setTime(2000);
    expect(tokens.verify(alice, token)).toBe(false);
  });

  it('forgets every old secret after a long idle gap (rotation is lazy but not lax)', () => {
    const { tokens, setTime } = tokensAt(0);
    const token = tokens.issue(alice);
    setTime(10 * ROTATION);
    expect(tokens.verify(alice, token)).toBe(false);
    const fresh = tokens.issue(alice);
    setTime(11 * ROTATION + 999);
    expect(tokens.verify(alice, fresh)).toBe(true);
  });

  it('a token issued at t verifies until at least t + rotation and never after t + 2·rotation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 0, max: 3 * ROTATION }),
        fc.integer({ min: 0, max: 3 }),
        (issuedAt, delay, checksBetween) => {
          const { tokens, setTime } = tokensAt(issuedAt);
          const token = tokens.issue(alice);
          // Intermediate calls rotate secrets; they must not change the outcome.
          for (let i = 1; i <= checksBetween; i++) {
            setTime(issuedAt + Math.floor((delay * i) / (checksBetween + 1)));
            tokens.issue({ host: '198.51.100.1', port: i });
          }
          setTime(issuedAt + delay);
          const valid = tokens.verify(alice, token);
          if (delay <= ROTATION) expect(valid).toBe(true);
          if (delay > 2 * ROTATION) expect(valid).toBe(false);
        },
      ),
    );
  });

  it('never throws on a malformed endpoint', () => {
    const { tokens } = tokensAt(0);
    const odd = { host: '', port: Number.NaN };
    expect(tokens.verify(odd, tokens.issue(odd))).toBe(true);
    expect(tokens.verify({ host: 'x', port: -1 }, new Uint8Array(16))).toBe(false);
  });

  it('rejects invalid configuration', () => {
    expect(() => new WriteTokens({ now: () => 0, rotationMs: 0 })).toThrow(/rotationMs/);
    expect(() => new WriteTokens({ now: () => 0, secretBytes: 8 })).toThrow(/secretBytes/);
  });
});
