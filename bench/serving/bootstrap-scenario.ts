import { round } from '../percentiles';
import type { ServingScenario } from './handshake-scenario';
import type { ServingResult } from './index';

/** What the server process reported after filling its bootstrap buffer (see server-process.ts). */
export interface BufferFillReport {
  loaded: number;
  fillMs: number;
  /** Wait after the fill until the load shedder was back at level 0 (server-process.ts). */
  settleMs: number;
  verified: number;
  size: number;
  before: NodeJS.MemoryUsage;
  after: NodeJS.MemoryUsage;
}

/** The bootstrap row's extra figures: memory after the fill, and proof the fake contacts were never pinged. */
export interface BootstrapFigures {
  bufferContacts: number;
  fillMs: number;
  settleMs: number;
  rssMiB: number;
  heapUsedMiB: number;
  arrayBuffersMiB: number;
  /** Growth of RSS from the populated node to the filled one (both after a full GC). */
  rssGrowthMiB: number;
  /** Verification pings the buffer sent during the measured window (0: no fake contact was pinged). */
  pingsInWindow: number;
}

/**
 * A bootstrap node: the default encrypted node with `bootstrapRole`, its table populated by the helpers as for
 * the other rows, then its buffer filled with verified contacts, so every FIND_NODE is answered from the k
 * closest of table and buffer. The full run holds the issue's million; --quick a tenth, to stay under a minute.
 */
export function bootstrapScenario(bufferContacts: number): ServingScenario {
  const size =
    bufferContacts >= 1_000_000 ? `${bufferContacts / 1_000_000}M` : `${Math.round(bufferContacts / 1_000)}k`;
  return {
    label: `kadfleet bootstrap (encrypted, ${size} buffer${bufferContacts < 1_000_000 ? ', quick' : ''})`,
    freshHandshakes: false,
    nodeOptions: { bootstrapRole: { capacity: bufferContacts } },
    expectContacts: 20,
    poolPerSecond: 0,
    bufferContacts,
  };
}

export function bootstrapFigures(input: { fill: BufferFillReport; pingsInWindow: number }): BootstrapFigures {
  const mib = (bytes: number) => round(bytes / 2 ** 20, 1);
  const { fill } = input;
  return {
    bufferContacts: fill.verified,
    fillMs: fill.fillMs,
    settleMs: fill.settleMs,
    rssMiB: mib(fill.after.rss),
    heapUsedMiB: mib(fill.after.heapUsed),
    arrayBuffersMiB: mib(fill.after.arrayBuffers),
    rssGrowthMiB: mib(fill.after.rss - fill.before.rss),
    pingsInWindow: input.pingsInWindow,
  };
}

export function bootstrapNotes(
  row: ServingResult & { bootstrap: BootstrapFigures },
  others: { encrypted?: ServingResult; dhtRpc?: ServingResult },
): string[] {
  const b = row.bootstrap;
  const ratio = (other: ServingResult | undefined, what: string) =>
    other
      ? `${round(row.cpuMicrosPerAnswer / other.cpuMicrosPerAnswer, 2)}× ${what} ` +
        `(${other.cpuMicrosPerAnswer} µs), answers/s ${round(row.responsesPerSecond / other.responsesPerSecond, 2)}×`
      : undefined;
  const ratios = [ratio(others.encrypted, 'the default encrypted node'), ratio(others.dhtRpc, 'dht-rpc')]
    .filter(Boolean)
    .join('; ');
  return [
    `${row.label}: ${b.bufferContacts.toLocaleString('en-US')} verified contacts in the buffer (filled in ` +
      `${b.fillMs} ms; load shedding back to level 0 ${b.settleMs} ms later), answers are the 20 closest of table + buffer. Server CPU ${row.cpuMicrosPerAnswer} µs per ` +
      `answer${ratios ? `: ${ratios}` : ''}.`,
    `${row.label}: server RSS ${b.rssMiB} MiB after the fill (+${b.rssGrowthMiB} MiB over the populated node; ` +
      `V8 heap ${b.heapUsedMiB} MiB, ArrayBuffers ${b.arrayBuffersMiB} MiB, after a full GC); ` +
      `${b.pingsInWindow} verification pings during the window.`,
  ];
}
