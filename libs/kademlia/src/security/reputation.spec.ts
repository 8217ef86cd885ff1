import fc from 'fast-check';
import { DEFAULTS } from '../config/defaults';
import { isKademliaError } from '../errors';
import { PeerReputation, type PeerReputationOptions, type ReputationBan } from './reputation';

const MINUTE = 60_000;
const HALF_LIFE = DEFAULTS.reputationHalfLifeMs;

function reputationAt(options: Partial<PeerReputationOptions> = {}) {
  let t = 1_000_000;
  const bans: ReputationBan[] = [];
  const reputation = new PeerReputation({ now: () => t, onBan: (b) => bans.push(b), ...options });
  return { reputation, bans, advance: (ms: number) => (t += ms), now: () => t };
}

describe('PeerReputation', () => {
  it('starts every peer at a neutral 0', () => {
    const { reputation } = reputationAt();
    expect(reputation.score('192.0.2.1')).toBe(0);
    expect(reputation.isBanned('192.0.2.1')).toBe(false);
  });

  it('adds the configured weight per event', () => {
    const { reputation } = reputationAt();
    expect(reputation.record('a', 'useful_reply')).toBe(DEFAULTS.reputationWeights.useful_reply);
    reputation.record('a', 'valid_value');
    expect(reputation.score('a')).toBe(
      DEFAULTS.reputationWeights.useful_reply + DEFAULTS.reputationWeights.valid_value,
    );
    reputation.record('b', 'timeout');
    expect(reputation.score('b')).toBe(DEFAULTS.reputationWeights.timeout);
  });

  it('halves a score every 30 minutes, exactly, in both directions', () => {
    const { reputation, advance } = reputationAt({ weights: { useful_reply: 40, bad_signature: -40 } });
    reputation.record('good', 'useful_reply');
    reputation.record('bad', 'bad_signature');
    advance(HALF_LIFE);
    expect(reputation.score('good')).toBe(20);
    expect(reputation.score('bad')).toBe(-20);
    advance(HALF_LIFE);
    expect(reputation.score('good')).toBe(10);
    advance(HALF_LIFE / 2);
    expect(reputation.score('good')).toBeCloseTo(10 / Math.SQRT2, 12);
  });

  it('applies decay before adding a new event', () => {
    const { reputation, advance } = reputationAt({ weights: { useful_reply: 40 } });
    reputation.record('a', 'useful_reply');
    advance(HALF_LIFE);
    expect(reputation.record('a', 'timeout')).toBe(20 + DEFAULTS.reputationWeights.timeout);
    advance(HALF_LIFE);
    expect(reputation.score('a')).toBe((20 + DEFAULTS.reputationWeights.timeout) / 2);
  });

  it('matches score × 2^(-t / half-life) for any history', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 3 * HALF_LIFE }),
            fc.constantFrom(
              ...(Object.keys(DEFAULTS.reputationWeights) as (keyof typeof DEFAULTS.reputationWeights)[]),
            ),
          ),
          { maxLength: 40 },
        ),
        (history) => {
          const { reputation, advance } = reputationAt({ minScore: -1e9, maxScore: 1e9, banThreshold: -1e9 });
          let expected = 0;
          for (const [gap, event] of history) {
            advance(gap);
            expected = expected * Math.pow(2, -gap / HALF_LIFE) + DEFAULTS.reputationWeights[event];
            reputation.record('p', event);
          }
          expect(reputation.score('p')).toBeCloseTo(expected, 9);
        },
      ),
    );
  });

  it('caps goodwill so a peer cannot bank credit for later misbehaviour', () => {
    const { reputation } = reputationAt();
    for (let i = 0; i < 1_000; i++) reputation.record('a', 'useful_reply');
    expect(reputation.score('a')).toBe(DEFAULTS.reputationMaxScore);
    // From the cap, four bad signatures still get it banned.
    for (let i = 0; i < 4; i++) reputation.record('a', 'bad_signature');
    expect(reputation.isBanned('a')).toBe(true);
  });

  it('floors the score so a burst of junk does not ban a peer for days', () => {
    const { reputation } = reputationAt();
    for (let i = 0; i < 1_000; i++) reputation.record('a', 'bad_signature');
    expect(reputation.score('a')).toBe(DEFAULTS.reputationMinScore);
  });

  it('bans for 10 minutes once the score reaches the threshold, and calls onBan once', () => {
    const { reputation, bans, advance, now } = reputationAt();
    reputation.record('192.0.2.7', 'bad_signature');
    expect(reputation.isBanned('192.0.2.7')).toBe(false);
    reputation.record('192.0.2.7', 'bad_signature');
    expect(reputation.score('192.0.2.7')).toBe(-50);
    expect(reputation.isBanned('192.0.2.7')).toBe(true);
    expect(bans).toEqual([{ peer: '192.0.2.7', score: -50, untilMs: now() + 10 * MINUTE }]);
    // More misbehaviour during the ban neither re-bans nor notifies again.
    reputation.record('192.0.2.7', 'invalid_token');
    expect(bans).toHaveLength(1);
    advance(10 * MINUTE - 1);
    expect(reputation.isBanned('192.0.2.7')).toBe(true);
    advance(1);
    expect(reputation.isBanned('192.0.2.7')).toBe(false);
  });

  it('re-bans a peer that misbehaves again while its score is still low', () => {
    const { reputation, bans, advance } = reputationAt();
    reputation.record('a', 'bad_signature');
    reputation.record('a', 'bad_signature');
    advance(10 * MINUTE);
    // -50 decayed for 10 min is about -39.7; one forged signature more is below -50 again.
    reputation.record('a', 'bad_signature');
    expect(bans).toHaveLength(2);
    expect(reputation.stats().bans).toBe(2);
  });

  it('does not ban for the occasional timeout of an honest peer', () => {
    const { reputation, bans, advance } = reputationAt();
    // One timeout a minute for a day, with useful replies in between.
    for (let m = 0; m < 24 * 60; m++) {
      reputation.record('a', 'timeout');
      reputation.record('a', 'useful_reply');
      advance(MINUTE);
    }
    for (let m = 0; m < 24 * 60; m++) {
      reputation.record('b', 'timeout');
      advance(MINUTE);
    }
    expect(bans).toHaveLength(0);
  });

  it('orders peers best first for sorting, unknown peers in the middle', () => {
    const { reputation } = reputationAt();
    reputation.record('good', 'valid_value');
    reputation.record('bad', 'invalid_token');
    const sorted = ['bad', 'unknown', 'good'].sort((a, b) => reputation.compare(a, b));
    expect(sorted).toEqual(['good', 'unknown', 'bad']);
    expect(reputation.compare('unknown', 'other-unknown')).toBe(0);
  });

  it('keeps at most maxPeers, forgetting the least recently active', () => {
    const { reputation } = reputationAt({ maxPeers: 3 });
    for (const peer of ['a', 'b', 'c']) reputation.record(peer, 'invalid_token');
    reputation.score('a'); // reads do not keep an entry alive
    reputation.record('b', 'useful_reply');
    reputation.record('d', 'useful_reply');
    expect(reputation.stats().trackedPeers).toBe(3);
    expect(reputation.score('a')).toBe(0);
    expect(reputation.score('b')).toBe(-4);
  });

  it('counts events by kind and ignores events it does not know', () => {
    const { reputation } = reputationAt();
    reputation.record('a', 'timeout');
    reputation.record('a', 'timeout');
    reputation.record('a', 'junk_contacts');
    expect(reputation.record('a', 'no_such_event' as never)).toBe(-7);
    expect(reputation.stats().events).toEqual({
      useful_reply: 0,
      valid_value: 0,
      timeout: 2,
      invalid_token: 0,
      bad_signature: 0,
      junk_contacts: 1,
      out_of_range_record: 0,
    });
  });

  it('does not decay backwards when handed an older clock reading', () => {
    let t = 10 * MINUTE;
    const reputation = new PeerReputation({ now: () => t, weights: { useful_reply: 8 } });
    reputation.record('a', 'useful_reply');
    t = 0;
    expect(reputation.score('a')).toBe(8);
    reputation.record('a', 'useful_reply');
    t = 10 * MINUTE + HALF_LIFE;
    expect(reputation.score('a')).toBe(8);
  });

  it('forget() drops a peer back to neutral', () => {
    const { reputation } = reputationAt();
    reputation.record('a', 'bad_signature');
    expect(reputation.forget('a')).toBe(true);
    expect(reputation.score('a')).toBe(0);
  });

  it('rejects nonsense configuration with CONFIG_INVALID', () => {
    for (const bad of [
      { halfLifeMs: 0 },
      { banMs: Number.NaN },
      { banThreshold: 5 },
      { minScore: -10, banThreshold: -50 },
      { maxScore: 0 },
      { weights: { timeout: Number.NaN } },
    ]) {
      let code = 'no error';
      try {
        new PeerReputation({ now: () => 0, ...bad });
      } catch (err) {
        code = isKademliaError(err) ? err.code : 'other';
      }
      expect(code).toBe('CONFIG_INVALID');
    }
  });
});
