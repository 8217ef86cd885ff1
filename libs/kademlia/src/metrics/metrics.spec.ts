import fc from 'fast-check';
import { noopMetrics, ReasonCounter } from './metrics';

type Reason = 'too_short' | 'bad_magic' | 'handler_error';
const REASONS: readonly Reason[] = ['too_short', 'bad_magic', 'handler_error'];

describe('ReasonCounter', () => {
  it('starts at zero for every reason', () => {
    const counter = new ReasonCounter<Reason>();
    for (const reason of REASONS) expect(counter.get(reason)).toBe(0);
    expect(counter.total()).toBe(0);
    expect(counter.toJSON()).toEqual({});
  });

  it('adds one by default and any amount when given', () => {
    const counter = new ReasonCounter<Reason>();
    counter.add('too_short');
    counter.add('too_short');
    counter.add('bad_magic', 5);
    expect(counter.get('too_short')).toBe(2);
    expect(counter.get('bad_magic')).toBe(5);
    expect(counter.get('handler_error')).toBe(0);
    expect(counter.total()).toBe(7);
    expect(counter.toJSON()).toEqual({ too_short: 2, bad_magic: 5 });
  });

  it('totals the per-reason counts for any sequence of additions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...REASONS), fc.integer({ min: 0, max: 1000 }))),
        (additions) => {
          const counter = new ReasonCounter<Reason>();
          const expected: Record<string, number> = {};
          for (const [reason, value] of additions) {
            counter.add(reason, value);
            expected[reason] = (expected[reason] ?? 0) + value;
          }
          expect(counter.toJSON()).toEqual(expected);
          expect(counter.total()).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
          for (const reason of REASONS) expect(counter.get(reason)).toBe(expected[reason] ?? 0);
        },
      ),
    );
  });

  it('serialises through JSON.stringify as a plain object', () => {
    const counter = new ReasonCounter<Reason>();
    counter.add('handler_error', 3);
    expect(JSON.parse(JSON.stringify({ drops: counter }))).toEqual({ drops: { handler_error: 3 } });
  });

  it('returns a snapshot from toJSON that later additions do not change', () => {
    const counter = new ReasonCounter<Reason>();
    counter.add('too_short');
    const snapshot = counter.toJSON();
    counter.add('too_short');
    expect(snapshot).toEqual({ too_short: 1 });
  });
});

describe('noopMetrics', () => {
  it('accepts every call and records nothing', () => {
    expect(noopMetrics.increment('kad_packets_total', { reason: 'x' }, 3)).toBeUndefined();
    expect(noopMetrics.increment('kad_packets_total')).toBeUndefined();
    expect(noopMetrics.observe('kad_lookup_seconds', 0.25, { kind: 'node' })).toBeUndefined();
  });
});
