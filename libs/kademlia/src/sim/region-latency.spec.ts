import { isKademliaError } from '../errors';
import type { Endpoint } from '../transport/transport';
import { createRandom } from './random';
import { regionLatency } from './region-latency';

// Hosts 10.<region>.x.y: the second octet names the region, as a simulator would assign them.
const regions = ['eu', 'us', 'ap'];
const regionOf = (endpoint: Endpoint): string => regions[Number(endpoint.host.split('.')[1])];
const at = (region: number): Endpoint => ({ host: `10.${region}.0.1`, port: 1 });

describe('regionLatency', () => {
  const matrixMs = { eu: { eu: 5, us: 40, ap: 120 }, us: { us: 5, ap: 90 }, ap: { ap: 5 } };

  it('looks delays up in the matrix, using [a][b] for a missing [b][a]', () => {
    const latency = regionLatency({ regionOf, matrixMs });
    expect(latency(at(0), at(0))).toBe(5);
    expect(latency(at(0), at(1))).toBe(40);
    expect(latency(at(1), at(0))).toBe(40);
    expect(latency(at(2), at(1))).toBe(90);
  });

  it('adds jitter within [0, jitterMs] in whole milliseconds, repeatably for a seed', () => {
    const sample = (): number[] => {
      const latency = regionLatency({ regionOf, matrixMs, jitterMs: 10, random: createRandom(3) });
      return Array.from({ length: 500 }, () => latency(at(0), at(2)));
    };
    const delays = sample();
    for (const ms of delays) {
      expect(Number.isInteger(ms)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(120);
      expect(ms).toBeLessThanOrEqual(130);
    }
    expect(new Set(delays).size).toBeGreaterThan(5);
    expect(sample()).toEqual(delays);
  });

  it('rejects a matrix with a missing pair, a negative delay or bad jitter', () => {
    const missing = { eu: { eu: 5, us: 40 }, us: { us: 5 }, ap: { ap: 5 } };
    const attempts = [
      () => regionLatency({ regionOf, matrixMs: missing }),
      () => regionLatency({ regionOf, matrixMs: { eu: { eu: -1 } } }),
      () => regionLatency({ regionOf, matrixMs, jitterMs: Number.NaN }),
    ];
    for (const attempt of attempts) {
      expect(attempt).toThrow();
      try {
        attempt();
      } catch (err) {
        expect(isKademliaError(err, 'CONFIG_INVALID')).toBe(true);
      }
    }
  });

  it('throws CONFIG_INVALID for an endpoint in an unknown region', () => {
    const latency = regionLatency({ regionOf: () => 'mars', matrixMs });
    expect(() => latency(at(0), at(1))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('does not mistake inherited property names for regions', () => {
    const latency = regionLatency({ regionOf: () => 'constructor', matrixMs });
    expect(() => latency(at(0), at(1))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
