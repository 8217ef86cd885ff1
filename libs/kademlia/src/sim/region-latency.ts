import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import type { Endpoint } from '../transport/transport';
import { createRandom } from './random';

export interface RegionLatencyOptions {
  /** The region an endpoint lives in; called twice per packet, so keep it a cheap lookup. */
  regionOf: (endpoint: Endpoint) => string;
  /** One-way delay in ms between two regions; when [b][a] is missing, [a][b] is used (links are symmetric). */
  matrixMs: Record<string, Record<string, number>>;
  /** Up to this many ms are added uniformly at random to each packet's delay. */
  jitterMs?: number;
  /** Source of the jitter; seed it for repeatable simulations. */
  random?: () => number;
}

export type LatencyModel = (from: Endpoint, to: Endpoint) => number;

/**
 * A latency model for MemoryNetwork from a region-to-region delay matrix. The matrix must cover every
 * pair of the regions it names (checked here, once). Delays are whole milliseconds: packets then share
 * timestamps, and the virtual clock flushes promise continuations once per millisecond, not per packet.
 */
export function regionLatency(options: RegionLatencyOptions): LatencyModel {
  const delays = completeMatrix(options.matrixMs);
  const jitterMs = options.jitterMs ?? 0;
  if (!(jitterMs >= 0 && Number.isFinite(jitterMs))) {
    throw new KademliaError(`jitterMs must be a finite number >= 0, got ${jitterMs}`, 'CONFIG_INVALID');
  }
  const random = options.random ?? createRandom(DEFAULTS.simRandomSeed);
  const { regionOf } = options;
  return (from, to) => {
    const base = delays.get(regionOf(from))?.get(regionOf(to));
    if (base === undefined) {
      throw new KademliaError('endpoint in a region the latency matrix does not name', 'CONFIG_INVALID', {
        from: regionOf(from),
        to: regionOf(to),
      });
    }
    return jitterMs > 0 ? Math.round(base + random() * jitterMs) : base;
  };
}

/** Every pair of named regions, both directions, rounded to whole ms; a gap is a configuration error. */
function completeMatrix(matrixMs: Record<string, Record<string, number>>): Map<string, Map<string, number>> {
  const regions = new Set<string>();
  for (const [from, row] of Object.entries(matrixMs)) {
    regions.add(from);
    for (const to of Object.keys(row)) regions.add(to);
  }
  const delays = new Map<string, Map<string, number>>();
  for (const from of regions) {
    const row = new Map<string, number>();
    for (const to of regions) {
      const ms = ownDelay(matrixMs, from, to) ?? ownDelay(matrixMs, to, from);
      if (ms === undefined || !(ms >= 0 && Number.isFinite(ms))) {
        throw new KademliaError(
          `latency matrix lacks a valid delay between ${from} and ${to}`,
          'CONFIG_INVALID',
          {
            from,
            to,
          },
        );
      }
      row.set(to, Math.round(ms));
    }
    delays.set(from, row);
  }
  return delays;
}

// Own properties only: a region named "constructor" must not find Object.prototype's.
function ownDelay(
  matrixMs: Record<string, Record<string, number>>,
  from: string,
  to: string,
): number | undefined {
  const row = Object.hasOwn(matrixMs, from) ? matrixMs[from] : undefined;
  return row !== undefined && Object.hasOwn(row, to) ? row[to] : undefined;
}
