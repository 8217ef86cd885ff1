/**
 * The contract between the benchmark orchestrator (`bench/run.ts`) and each section (serving, lookups, memory, scale).
 * A section measures one thing, logs progress through `ctx.log`, and returns a Markdown table for stdout plus raw
 * JSON for `bench/results/`.
 */

export interface BenchContext {
  /** Smoke mode: a few seconds per section, same code paths, smaller sizes. */
  quick: boolean;
  /** Absolute path of `bench/results/` (created by the orchestrator before any section runs). */
  resultsDir: string;
  log: (line: string) => void;
}

export interface BenchSectionResult {
  name: string;
  /** Markdown. */
  table: string;
  /** JSON-serialisable raw figures. */
  data: unknown;
  notes: string[];
}

export type BenchSection = (ctx: BenchContext) => Promise<BenchSectionResult>;
