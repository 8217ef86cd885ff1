import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { lookupsSection } from './lookups';
import { describeMachine, machineLine } from './machine';
import { memorySection } from './memory';
import { scaleSection } from './scale';
import type { BenchContext, BenchSection, BenchSectionResult } from './section';
import { servingSection } from './serving';

/**
 * `npm run bench [-- --quick] [-- --only serving,lookups] [-- --results-dir DIR]`: runs the sections one after
 * another (never two at once: they would measure each other), prints one Markdown table each, and writes all
 * figures to bench/results/<timestamp>.json and bench/results/latest.json.
 */
const SECTIONS: ReadonlyArray<readonly [string, BenchSection]> = [
  ['serving', servingSection],
  ['lookups', lookupsSection],
  ['memory', memorySection],
  ['scale', scaleSection],
];

interface RunOptions {
  quick: boolean;
  only: string[];
  resultsDir: string;
}

function parseArgs(argv: readonly string[]): RunOptions {
  const options: RunOptions = {
    quick: false,
    only: SECTIONS.map(([name]) => name),
    // dist/bench/run.js -> <repo>/bench/results
    resultsDir: resolve(__dirname, '..', '..', 'bench', 'results'),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') options.quick = true;
    else if (arg === '--only') options.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg.startsWith('--only=')) options.only = arg.slice('--only='.length).split(',').filter(Boolean);
    else if (arg === '--results-dir') options.resultsDir = resolve(argv[++i] ?? '.');
    else throw new Error(`unknown argument ${arg} (use --quick, --only a,b, --results-dir DIR)`);
  }
  const unknown = options.only.filter((name) => !SECTIONS.some(([known]) => known === name));
  if (unknown.length > 0) throw new Error(`unknown section(s): ${unknown.join(', ')}`);
  return options;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const machine = describeMachine();
  const startedAt = new Date();
  await mkdir(options.resultsDir, { recursive: true });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`kadfleet benchmark${options.quick ? ' (quick)' : ''} on ${machineLine(machine)}`);
  const ctx: BenchContext = { quick: options.quick, resultsDir: options.resultsDir, log };
  const sections: Array<BenchSectionResult & { seconds: number }> = [];
  const failures: Array<{ name: string; error: string }> = [];
  for (const [name, section] of SECTIONS) {
    if (!options.only.includes(name)) continue;
    const sectionStart = performance.now();
    try {
      const result = await section(ctx);
      sections.push({ ...result, seconds: Math.round((performance.now() - sectionStart) / 100) / 10 });
    } catch (err) {
      // One broken section must not hide the others' figures; the exit code still reports it.
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      failures.push({ name, error });
      log(`section ${name} failed: ${error}`);
    }
  }
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    quick: options.quick,
    command: `npm run bench${options.quick ? ' -- --quick' : ''}`,
    machine,
    sections,
    failures,
  };
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  await writeFile(join(options.resultsDir, `${stamp}.json`), json);
  await writeFile(join(options.resultsDir, 'latest.json'), json);
  process.stdout.write(renderMarkdown(report));
  process.exitCode = failures.length > 0 ? 1 : 0;
}

function renderMarkdown(report: {
  machine: ReturnType<typeof describeMachine>;
  command: string;
  sections: ReadonlyArray<BenchSectionResult & { seconds: number }>;
  failures: ReadonlyArray<{ name: string }>;
}): string {
  const parts = [
    `# kadfleet benchmark\n`,
    `Machine: ${machineLine(report.machine)}  \nCommand: \`${report.command}\`\n`,
  ];
  for (const section of report.sections) {
    parts.push(`## ${section.name} (${section.seconds} s)\n`, section.table, '');
    for (const note of section.notes) parts.push(`- ${note}`);
    parts.push('');
  }
  for (const failure of report.failures) parts.push(`## ${failure.name}: FAILED (see the log above)\n`);
  return `${parts.join('\n')}\n`;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
