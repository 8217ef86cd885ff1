import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * `npm run bench -- --quick`, once, so the benchmark cannot rot silently: it is compiled as `npm run build` would
 * (into a private folder under dist/, where Node still finds node_modules) and must finish with figures in every
 * section. What the figures are is the benchmark's business; here they only have to exist and be plausible.
 */
jest.setTimeout(240_000);

const repo = resolve(__dirname, '..', '..');

interface Section {
  name: string;
  table: string;
  data: Record<string, unknown>;
}
interface Report {
  quick: boolean;
  machine: { cores: number; cpuModel: string; node: string };
  sections: Section[];
  failures: Array<{ name: string; error: string }>;
}

describe('npm run bench -- --quick', () => {
  const outDir = join(repo, 'dist', `.bench-quick-${process.pid}`);
  const resultsDir = mkdtempSync(join(tmpdir(), 'kadfleet-bench-'));
  let report: Report;
  let run: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    // Type errors elsewhere in the tree do not stop tsc from emitting; the benchmark only needs its JS.
    spawnSync(
      process.execPath,
      [
        join(repo, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        outDir,
      ],
      {
        cwd: repo,
        encoding: 'utf8',
      },
    );
    const script = join(outDir, 'bench', 'run.js');
    expect(existsSync(script)).toBe(true);
    run = spawnSync(process.execPath, [script, '--quick', '--results-dir', resultsDir], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 200_000,
    });
    report = JSON.parse(readFileSync(join(resultsDir, 'latest.json'), 'utf8')) as Report;
  });

  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
    rmSync(resultsDir, { recursive: true, force: true });
  });

  it('finishes every section without a failure and prints their tables', () => {
    if (run.status !== 0) console.log(run.stderr);
    expect(report.failures).toEqual([]);
    expect(run.status).toBe(0);
    expect(report.quick).toBe(true);
    expect(report.sections.map((s) => s.name)).toEqual(['serving', 'lookups', 'memory', 'scale']);
    for (const section of report.sections) {
      expect(run.stdout).toContain(`## ${section.name}`);
      const rows = section.table
        .split('\n')
        .filter((line) => line.startsWith('|'))
        .slice(2);
      expect(rows.length).toBeGreaterThan(0);
      expect(section.table).not.toMatch(/NaN|n\/a|undefined/);
    }
    expect(report.machine.cores).toBeGreaterThan(0);
  });

  it('measures every server: answers, latency, server CPU per answer, and full contact lists', () => {
    const serving = report.sections.find((s) => s.name === 'serving')!;
    const results = serving.data.results as Array<Record<string, number | string>>;
    expect(results.map((r) => r.implementation)).toEqual([
      'kadfleet-encrypted',
      'kadfleet-plaintext',
      'dht-rpc',
      'bittorrent-dht',
      'echo',
    ]);
    for (const r of results) {
      expect(r.answered).toBeGreaterThan(0);
      expect(r.responsesPerSecond).toBeGreaterThan(0);
      expect(r.cpuMicrosPerAnswer).toBeGreaterThan(0);
      expect(r.p50Ms).toBeGreaterThan(0);
      expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms as number);
      expect(r.lost).toBeGreaterThanOrEqual(0);
      expect(r.contactsPerAnswer).toBe(r.implementation === 'echo' ? 0 : 20);
    }
  });

  it('runs lookups on a network of every implementation and judges them against the oracle', () => {
    const lookups = report.sections.find((s) => s.name === 'lookups')!;
    const results = lookups.data.results as Array<Record<string, number | string>>;
    expect(results.map((r) => r.implementation).sort()).toEqual(['bittorrent-dht', 'dht-rpc', 'kadfleet']);
    for (const r of results) {
      expect(r.lookups).toBeGreaterThan(0);
      expect(r.medianMs).toBeGreaterThan(0);
      expect(r.medianMessages).toBeGreaterThan(0);
      expect(r.exactPercent).toBeGreaterThanOrEqual(0);
      expect(r.exactPercent).toBeLessThanOrEqual(100);
    }
  });
});
