import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildLink } from '../child-link';
import { markdownTable } from '../markdown-table';
import { round } from '../percentiles';
import type { BenchContext, BenchSection } from '../section';
import {
  SERVING_IMPLEMENTATIONS,
  SERVING_LABELS,
  type ServerAddress,
  type ServingImplementation,
} from './implementations';
import {
  bootstrapFigures,
  bootstrapNotes,
  bootstrapScenario,
  type BootstrapFigures,
  type BufferFillReport,
} from './bootstrap-scenario';
import {
  HANDSHAKE_SCENARIO,
  handshakeFigures,
  handshakeNote,
  type ServingScenario,
} from './handshake-scenario';
import type { LoadArgs } from './load-process';
import type { WindowReport } from './load-window';

// bufferContacts: the bootstrap row's buffer; the million in full runs, a tenth in the smoke run.
const FULL = {
  helpers: 40,
  window: 128,
  warmupMs: 1_500,
  measureMs: 8_000,
  timeoutMs: 1_000,
  bufferContacts: 1_000_000,
};
const QUICK = {
  helpers: 24,
  window: 64,
  warmupMs: 300,
  measureMs: 1_000,
  timeoutMs: 500,
  bufferContacts: 100_000,
};
/** Every child is killed past this, whatever it is doing. */
const CHILD_DEADLINE_MS = 90_000;

export interface ServingResult {
  implementation: ServingImplementation;
  label: string;
  helpers: number;
  tableSize: number;
  contactsPerAnswer: number;
  seconds: number;
  sent: number;
  answered: number;
  lost: number;
  lossPercent: number;
  responsesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuMicros: number;
  /** Share of one core the server used during the window. */
  serverCpuPercent: number;
  cpuMicrosPerAnswer: number;
  /** The server process's resident set at the window's end. */
  serverRssMiB: number;
  /** kadfleet only: packets the server dropped and requests it refused (shed, rate-limited) in the window. */
  serverRefusals?: Record<string, number>;
  /** The bootstrap row only: its buffer and memory figures. */
  bootstrap?: BootstrapFigures;
}

/**
 * Serving: one server process per implementation, one load-generator process keeping a window of FIND_NODE
 * requests with random targets outstanding. The server reports its own CPU time (process.cpuUsage) at the
 * window's start and end; CPU µs per answer is the figure that stays fair when the generator is the bottleneck.
 */
export const servingSection: BenchSection = async (ctx) => {
  const plan = ctx.quick ? QUICK : FULL;
  const results: ServingResult[] = [];
  const failures: Array<{ implementation: ServingImplementation; error: string }> = [];
  for (const [index, implementation] of SERVING_IMPLEMENTATIONS.entries()) {
    const outcome = await measureWithRetry({ ctx, implementation, index, plan });
    if ('error' in outcome) {
      failures.push({ implementation, error: outcome.error });
      continue;
    }
    ctx.log(
      `serving: ${implementation}: ${outcome.responsesPerSecond} answers/s, ` +
        `${outcome.cpuMicrosPerAnswer} µs server CPU per answer, p99 ${outcome.p99Ms} ms`,
    );
    results.push(outcome);
  }
  // The bootstrap role: the encrypted node again, its answers drawn from table + a buffer of verified contacts.
  const bootstrapOutcome = await measureWithRetry({
    ctx,
    implementation: 'kadfleet-encrypted',
    index: 4 * SERVING_IMPLEMENTATIONS.length,
    plan,
    scenario: bootstrapScenario(plan.bufferContacts),
  });
  const bootstrap = 'error' in bootstrapOutcome ? undefined : bootstrapOutcome;
  if (bootstrap) {
    ctx.log(
      `serving: bootstrap: ${bootstrap.responsesPerSecond} answers/s, ${bootstrap.cpuMicrosPerAnswer} µs ` +
        `server CPU per answer, RSS ${bootstrap.bootstrap?.rssMiB} MiB`,
    );
  }
  // Beside the steady-session rows: the same server, every request a full handshake from a new identity.
  const handshakeOutcome = await measureWithRetry({
    ctx,
    implementation: 'kadfleet-encrypted',
    index: 2 * SERVING_IMPLEMENTATIONS.length,
    plan,
    scenario: HANDSHAKE_SCENARIO,
  });
  const handshake = 'error' in handshakeOutcome ? undefined : handshakeOutcome;
  const figures = handshake
    ? handshakeFigures(
        handshake,
        results.find((r) => r.implementation === 'kadfleet-encrypted'),
      )
    : undefined;
  if (figures) ctx.log(`serving: ${handshakeNote(figures)}`);
  return {
    name: 'serving',
    table: servingTable([...results, ...(bootstrap ? [bootstrap] : []), ...(handshake ? [handshake] : [])]),
    data: { plan, results, bootstrap, handshake: handshake && { ...handshake, ...figures }, failures },
    notes: [
      ...servingNotes(results),
      ...(bootstrap?.bootstrap
        ? bootstrapNotes(
            { ...bootstrap, bootstrap: bootstrap.bootstrap },
            {
              encrypted: results.find((r) => r.implementation === 'kadfleet-encrypted'),
              dhtRpc: results.find((r) => r.implementation === 'dht-rpc'),
            },
          )
        : []),
      ...(figures ? [handshakeNote(figures)] : []),
      ...failures.map((f) => `${SERVING_LABELS[f.implementation]}: no figures (${f.error}).`),
      ...('error' in bootstrapOutcome ? [`kadfleet bootstrap: no figures (${bootstrapOutcome.error}).`] : []),
      ...('error' in handshakeOutcome
        ? [`${HANDSHAKE_SCENARIO.label}: no figures (${handshakeOutcome.error}).`]
        : []),
    ],
  };
};

/** A run whose processes die or stall is repeated once on fresh addresses; a second failure is reported. */
async function measureWithRetry(input: {
  ctx: BenchContext;
  implementation: ServingImplementation;
  index: number;
  plan: typeof FULL;
  scenario?: ServingScenario;
}): Promise<ServingResult | { error: string }> {
  let error = '';
  for (let attempt = 0; attempt < 2; attempt++) {
    const label = input.scenario?.label ?? SERVING_LABELS[input.implementation];
    input.ctx.log(`serving: ${label}${attempt > 0 ? ' (second attempt)' : ''} ...`);
    try {
      return await measureServer({ ...input, index: input.index + attempt * SERVING_IMPLEMENTATIONS.length });
    } catch (err) {
      error = err instanceof Error ? err.message.split('\n')[0] : String(err);
      input.ctx.log(`serving: ${input.implementation} failed: ${error}`);
    }
  }
  return { error };
}

async function measureServer(input: {
  ctx: BenchContext;
  implementation: ServingImplementation;
  index: number;
  plan: typeof FULL;
  scenario?: ServingScenario;
}): Promise<ServingResult> {
  const { ctx, implementation, index, plan, scenario } = input;
  const variant = scenario?.freshHandshakes ? ' handshakes' : scenario?.bufferContacts ? ' bootstrap' : '';
  const name = `serving ${implementation}${variant}`;
  const server = new ChildLink({
    script: join(__dirname, 'server-process.js'),
    args: { implementation, host: `127.9.0.${index + 1}`, nodeOptions: scenario?.nodeOptions },
    deadlineMs: CHILD_DEADLINE_MS,
    log: ctx.log,
    name: `${name} server`,
  });
  let generator: ChildLink | undefined;
  try {
    const { address } = (await server.next('ready')) as unknown as { address: ServerAddress };
    const loadArgs: LoadArgs = {
      implementation,
      server: address,
      host: `127.9.1.${index + 1}`,
      helpers: plan.helpers,
      helperBlock: 150 + index,
      window: plan.window,
      timeoutMs: plan.timeoutMs,
      expectContacts: scenario?.expectContacts ?? (implementation === 'echo' ? 0 : 20),
      populateDeadlineMs: 20_000,
      freshHandshakes: scenario?.freshHandshakes,
      handshakePool: scenario?.freshHandshakes
        ? Math.ceil(((plan.warmupMs + plan.measureMs + 2 * plan.timeoutMs) / 1000) * scenario.poolPerSecond)
        : undefined,
    };
    generator = new ChildLink({
      script: join(__dirname, 'load-process.js'),
      args: loadArgs,
      deadlineMs: CHILD_DEADLINE_MS,
      log: ctx.log,
      name: `${name} generator`,
    });
    const populated = (await generator.next('populated')) as unknown as { helpers: number; contacts: number };
    // After the helpers joined: their join lookups must not meet the buffer's fake contacts.
    const fill = scenario?.bufferContacts
      ? ((await server.request(
          { type: 'fill', contacts: scenario.bufferContacts },
          'filled',
        )) as unknown as BufferFillReport)
      : undefined;
    await generator.request({ type: 'start' }, 'started');
    await sleep(plan.warmupMs);
    const [cpuBefore] = await Promise.all([
      server.request({ type: 'cpu' }, 'cpu'),
      generator.request({ type: 'mark' }, 'marked'),
    ]);
    await sleep(plan.measureMs);
    const [cpuAfter, reportMessage] = await Promise.all([
      server.request({ type: 'cpu' }, 'cpu'),
      generator.request({ type: 'report' }, 'report'),
    ]);
    const report = (reportMessage as unknown as { report: WindowReport }).report;
    const cpu = (m: Record<string, unknown>) => Number(m.userMicros) + Number(m.systemMicros);
    const serverCpuMicros = cpu(cpuAfter) - cpu(cpuBefore);
    return {
      implementation,
      label: scenario?.label ?? SERVING_LABELS[implementation],
      helpers: populated.helpers,
      tableSize: Number(cpuAfter.tableSize),
      contactsPerAnswer: report.medianContacts,
      seconds: round(report.seconds, 2),
      sent: report.sent,
      answered: report.answered,
      lost: report.lost,
      lossPercent: report.sent === 0 ? Number.NaN : round((100 * report.lost) / report.sent, 2),
      responsesPerSecond: Math.round(report.answered / report.seconds),
      p50Ms: round(report.p50Ms, 3),
      p99Ms: round(report.p99Ms, 3),
      serverCpuMicros,
      serverCpuPercent: round((100 * serverCpuMicros) / (report.seconds * 1e6), 1),
      cpuMicrosPerAnswer: report.answered === 0 ? Number.NaN : round(serverCpuMicros / report.answered, 2),
      serverRssMiB: round(Number(cpuAfter.rssBytes) / 2 ** 20, 1),
      serverRefusals: refusalsIn(cpuBefore.refusals, cpuAfter.refusals),
      bootstrap:
        fill &&
        bootstrapFigures({
          fill,
          pingsInWindow: Number(cpuAfter.bufferPingsSent) - Number(cpuBefore.bufferPingsSent),
        }),
    };
  } finally {
    await generator?.close();
    await server.close();
  }
}

type Refusals = { dropped: number; refused: Record<string, number> } | undefined;

/** What the server refused between two readings (kadfleet only; the peers report nothing of the kind). */
function refusalsIn(before: unknown, after: unknown): Record<string, number> | undefined {
  const [from, to] = [before as Refusals, after as Refusals];
  if (!from || !to) return undefined;
  const out: Record<string, number> = { dropped: to.dropped - from.dropped };
  for (const [reason, count] of Object.entries(to.refused)) {
    const delta = count - (from.refused[reason] ?? 0);
    if (delta > 0) out[reason] = delta;
  }
  return out;
}

function servingTable(results: readonly ServingResult[]): string {
  return markdownTable(
    [
      'server',
      'contacts/answer',
      'answers/s',
      'p50 ms',
      'p99 ms',
      'loss %',
      'server CPU %',
      'server CPU µs/answer',
      'server RSS MiB',
    ],
    results.map((r) => [
      r.label,
      r.contactsPerAnswer,
      r.responsesPerSecond,
      r.p50Ms,
      r.p99Ms,
      r.lossPercent ?? Number.NaN,
      r.serverCpuPercent,
      r.cpuMicrosPerAnswer ?? Number.NaN,
      r.serverRssMiB,
    ]),
  );
}

function servingNotes(results: readonly ServingResult[]): string[] {
  const of = (implementation: ServingImplementation) =>
    results.find((r) => r.implementation === implementation);
  const dhtRpc = of('dht-rpc');
  const notes: string[] = [];
  for (const variant of ['kadfleet-encrypted', 'kadfleet-plaintext'] as const) {
    const kadfleet = of(variant);
    if (!kadfleet || !dhtRpc) continue;
    notes.push(
      `Server CPU per answered FIND_NODE, ${kadfleet.label} / ${dhtRpc.label}: ` +
        `${round(kadfleet.cpuMicrosPerAnswer / dhtRpc.cpuMicrosPerAnswer, 2)} ` +
        `(${kadfleet.cpuMicrosPerAnswer} vs ${dhtRpc.cpuMicrosPerAnswer} µs; target <= 1.5, aiming for <= 1.0).`,
    );
  }
  const echo = of('echo');
  if (echo) {
    notes.push(
      `The echo server spends ${echo.cpuMicrosPerAnswer} µs per datagram answered: the floor any UDP server on ` +
        `this machine pays in Node, before it decodes a single byte.`,
    );
  }
  return notes;
}
