/**
 * Child process of the memory benchmark: `node --expose-gc memory-worker.js '{"structure":…,"entries":…}'`.
 * Measures one structure at one size in a heap holding nothing else, prints one `result` line
 * (MemoryMeasurement) and exits.
 */
import { childArgs, emit, failChild } from '../child-main';
import { structureNamed } from './structures';

export interface MemoryRunArgs {
  readonly structure: string;
  readonly entries: number;
}

export interface MemoryMeasurement {
  readonly structure: string;
  readonly requestedEntries: number;
  /** Entries the structure actually holds after fill(). */
  readonly entries: number;
  /** V8 heap growth caused by the entries (bytes). */
  readonly heapBytes: number;
  /** Off-heap growth (ArrayBuffer backing stores, Buffer pool slabs) caused by the entries (bytes). */
  readonly externalBytes: number;
  readonly bytesPerEntry: number;
  readonly fillMs: number;
  /** Figures the structure's probe measured after the memory reading (e.g. closestMicros). */
  readonly probes?: Record<string, number>;
}

function settledUsage(): { heap: number; external: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('memory-worker needs --expose-gc');
  // Twice: the first pass may leave objects whose finalizers only let go on the next one.
  gc();
  gc();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, external: usage.external };
}

async function main(): Promise<void> {
  const { structure: name, entries: requestedEntries } = childArgs<MemoryRunArgs>();
  if (typeof name !== 'string' || !Number.isInteger(requestedEntries) || requestedEntries < 1) {
    throw new Error('usage: memory-worker \'{"structure":"<name>","entries":<1..5000000>}\'');
  }
  if (requestedEntries > 5_000_000) throw new Error('at most 5,000,000 entries');
  const structure = structureNamed(name);
  if (!structure.prepare) throw new Error(`${name} is not built yet`);
  const filler = await structure.prepare(requestedEntries);
  const before = settledUsage();
  const startedAt = performance.now();
  const { entries, keep, probe } = await filler.fill();
  const fillMs = performance.now() - startedAt;
  const after = settledUsage();
  const heapBytes = after.heap - before.heap;
  const externalBytes = after.external - before.external;
  const measurement: MemoryMeasurement = {
    structure: name,
    requestedEntries,
    entries,
    heapBytes,
    externalBytes,
    bytesPerEntry: (heapBytes + externalBytes) / entries,
    fillMs,
    probes: probe?.(),
  };
  emit({ type: 'result', ...measurement });
  // Read after the second measurement, so the entries cannot be collected before it.
  if (keep === undefined) throw new Error('fill() returned nothing to keep alive');
}

main().then(() => process.exit(0), failChild);
