import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { markdownTable } from '../markdown-table';
import { round } from '../percentiles';
import type { BenchSection } from '../section';
import { runWorker } from '../scale/worker-process';
import type { MemoryMeasurement } from './memory-worker';
import { STRUCTURES, type MemoryStructure } from './structures';
import { ENTRIES_PER_TABLE } from './table-fill';

/** The issue's sizes; quick mode keeps the smaller one (same code path, a few seconds). */
const FULL_SIZES = [100_000, 1_000_000];
const QUICK_SIZES = [100_000];
/** A million kadfleet entries take ~12 s to build and measure here; four times that is a hang, not a slow run. */
const RUN_DEADLINE_MS = 120_000;

export interface MemoryRow {
  readonly structure: string;
  readonly label: string;
  readonly entry: string;
  readonly targetBytesPerEntry?: number;
  readonly status: 'measured' | 'not yet built' | 'failed';
  readonly measurements: MemoryMeasurement[];
  readonly error?: string;
}

/**
 * Bytes per routing-table entry of kadfleet and of the two peers' tables, and per bootstrap-buffer entry: heap + off-heap growth over entry count, each structure and size measured in its
 * own child process started with --expose-gc, so the heap holds nothing else and is collected before each reading.
 */
export const memorySection: BenchSection = async (ctx) => {
  const worker = join(__dirname, 'memory-worker.js');
  if (!existsSync(worker)) throw new Error(`${worker} is missing: run \`npm run build\` first`);
  const sizes = ctx.quick ? QUICK_SIZES : FULL_SIZES;
  const rows: MemoryRow[] = [];
  for (const structure of STRUCTURES)
    rows.push(await measureStructure({ structure, sizes, worker, log: ctx.log }));

  const kadfleet = rows.find((r) => r.structure === 'kadfleet-routing-table');
  const dhtRpc = rows.find((r) => r.structure === 'dht-rpc-routing-table');
  const largest = (row?: MemoryRow) => row?.measurements[row.measurements.length - 1]?.bytesPerEntry;
  const notes = [
    `Bytes per entry = (V8 heap + off-heap growth) / entries, measured after two forced GCs before and after ` +
      `the entries are added; fixed costs (nodes, empty tables) are measured before and excluded.`,
    `Routing tables are filled to ${ENTRIES_PER_TABLE} entries each (20 in each of the 16 nearest-first ` +
      `distance ranges of a node in a ~1,000,000-node network); per-table overhead is spread over them.`,
    ...rows.map((r) => `${r.label}: ${r.entry}.`),
    'kadfleet bootstrap buffer: measured at full capacity (capacity = entries); an IPv6 entry adds 20 B ' +
      '(16-byte side-table slot + free-list word) to the IPv4 figure.',
  ];
  const buffer = rows.find((r) => r.structure === 'kadfleet-bootstrap-buffer');
  for (const m of buffer?.measurements ?? []) {
    const micros = m.probes?.closestMicros;
    if (micros !== undefined) {
      notes.push(
        `bootstrap buffer closest(target, 20) at ${m.entries.toLocaleString('en-US')} entries: ` +
          `${round(micros, 2)} µs per query (mean of 2,000 random targets, contacts built included).`,
      );
    }
  }
  const ours = largest(kadfleet);
  const theirs = largest(dhtRpc);
  if (ours !== undefined && theirs !== undefined) {
    notes.push(`kadfleet routing table ÷ dht-rpc's: ${round(ours / theirs, 2)}× bytes per entry.`);
  }
  return {
    name: 'memory',
    table: memoryTable(rows, sizes),
    data: { sizes, entriesPerTable: ENTRIES_PER_TABLE, rows },
    notes,
  };
};

async function measureStructure(input: {
  structure: MemoryStructure;
  sizes: readonly number[];
  worker: string;
  log: (line: string) => void;
}): Promise<MemoryRow> {
  const { structure, sizes, worker, log } = input;
  const base = {
    structure: structure.name,
    label: structure.label,
    entry: structure.entry,
    targetBytesPerEntry: structure.targetBytesPerEntry,
  };
  if (!structure.prepare) return { ...base, status: 'not yet built', measurements: [] };
  const measurements: MemoryMeasurement[] = [];
  try {
    for (const entries of sizes) {
      log(`memory: ${structure.label}, ${entries.toLocaleString('en-US')} entries`);
      const result = await runWorker({
        script: worker,
        args: { structure: structure.name, entries },
        // A million kadfleet entries need ~1.2 GB; Node's default heap limit (≥ 2 GB) holds them.
        nodeFlags: ['--expose-gc'],
        deadlineMs: RUN_DEADLINE_MS,
        name: `memory ${structure.name} ${entries}`,
        log,
      });
      measurements.push(result as unknown as MemoryMeasurement);
    }
    return { ...base, status: 'measured', measurements };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    log(`memory: ${structure.label} failed: ${error}`);
    return { ...base, status: 'failed', measurements, error };
  }
}

function memoryTable(rows: readonly MemoryRow[], sizes: readonly number[]): string {
  const headers = [
    'Structure',
    ...sizes.map((n) => `B/entry @ ${n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`}`),
    'Target',
    'Status',
  ];
  const body = rows.map((row) => [
    row.label,
    ...sizes.map((n) => {
      const m = row.measurements.find((x) => x.requestedEntries === n);
      return m ? String(Math.round(m.bytesPerEntry)) : '—';
    }),
    row.targetBytesPerEntry !== undefined ? `≤ ${row.targetBytesPerEntry}` : '—',
    row.status === 'failed' ? `failed: ${row.error ?? ''}` : row.status,
  ]);
  return markdownTable(headers, body);
}
