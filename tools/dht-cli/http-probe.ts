import { CLI_DEFAULTS } from './defaults';
import { isCliError } from './cli-error';
import { withDeadline } from './deadline';

export interface ReadinessResult {
  readonly url: string;
  /** HTTP status, absent when no response came (connection refused, timeout). */
  readonly status?: number;
  readonly ready: boolean;
  /** Health indicators the body reports as down (NestJS terminus: the keys of `error`). */
  readonly down: readonly string[];
  readonly error?: string;
}

export interface MetricsResult {
  readonly url: string;
  readonly status?: number;
  /** Selected sample lines, as the node printed them. */
  readonly lines: readonly string[];
  /** More lines matched than the CLI prints. */
  readonly truncated: boolean;
  readonly error?: string;
}

interface Deadline {
  readonly signal?: AbortSignal;
  readonly timeoutMs: number;
}

/** GET <base>/health/ready: 200 is ready; the body names what is down (terminus shape), when it is JSON. */
export async function fetchReadiness(base: URL, deadline: Deadline): Promise<ReadinessResult> {
  const url = below(base, 'health/ready');
  try {
    const { status, body } = await fetchText(url, deadline);
    return { url: url.href, status, ready: status === 200, down: downIndicators(body) };
  } catch (err) {
    if (isCliError(err, 'interrupted')) throw err;
    return { url: url.href, ready: false, down: [], error: describeFetchError(err) };
  }
}

/** GET <base>/metrics and keep the sample lines whose metric name starts with one of `prefixes`. */
export async function fetchMetrics(
  base: URL,
  input: Deadline & { prefixes: readonly string[] },
): Promise<MetricsResult> {
  const url = below(base, 'metrics');
  try {
    const { status, body } = await fetchText(url, input);
    if (status !== 200)
      return { url: url.href, status, lines: [], truncated: false, error: `HTTP ${status}` };
    return { url: url.href, status, ...selectMetricLines(body, { prefixes: input.prefixes }) };
  } catch (err) {
    if (isCliError(err, 'interrupted')) throw err;
    return { url: url.href, lines: [], truncated: false, error: describeFetchError(err) };
  }
}

/**
 * The sample lines of a Prometheus text page whose names start with a prefix. Histogram buckets are left out
 * (their _sum and _count say enough in a summary), and at most `max` lines are kept.
 */
export function selectMetricLines(
  text: string,
  input: { prefixes: readonly string[]; max?: number },
): { lines: string[]; truncated: boolean } {
  const max = input.max ?? CLI_DEFAULTS.maxMetricLines;
  const lines: string[] = [];
  let truncated = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#')) continue;
    const name = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(line)?.[0];
    if (!name || name.endsWith('_bucket')) continue;
    if (!input.prefixes.some((prefix) => name.startsWith(prefix))) continue;
    if (lines.length === max) {
      truncated = true;
      break;
    }
    lines.push(line);
  }
  return { lines, truncated };
}

/** Names of the indicators a terminus health body lists under `error` (or as not 'up' in `details`). */
export function downIndicators(body: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null) return [];
  const { error, details } = parsed as { error?: unknown; details?: unknown };
  if (typeof error === 'object' && error !== null && Object.keys(error).length > 0) return Object.keys(error);
  if (typeof details !== 'object' || details === null) return [];
  return Object.entries(details as Record<string, unknown>)
    .filter(([, v]) => typeof v === 'object' && v !== null && (v as { status?: unknown }).status !== 'up')
    .map(([k]) => k);
}

/** fetch() says only "fetch failed"; the reason (ECONNREFUSED, a certificate error) is in its cause. */
function describeFetchError(err: unknown): string {
  const message = (err as Error).message;
  const cause = (err as { cause?: { message?: unknown; code?: unknown } }).cause;
  const detail =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return detail ? `${message}: ${detail}` : message;
}

/** A path below the base URL, keeping a base path such as http://lb/node-1/ (a reverse proxy's prefix). */
function below(base: URL, path: string): URL {
  const dir = base.href.endsWith('/') ? base.href : `${base.href}/`;
  return new URL(path, dir);
}

async function fetchText(url: URL, deadline: Deadline): Promise<{ status: number; body: string }> {
  return withDeadline({ ...deadline, what: `GET ${url.href}` }, async (signal) => {
    const response = await fetch(url, { signal, redirect: 'follow' });
    return { status: response.status, body: await readCapped(response, CLI_DEFAULTS.maxHttpBodyBytes) };
  });
}

/** The body as text, cut at maxBytes: a wrong URL (a file server, a stream) must not fill the CLI's memory. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
    if (total >= maxBytes) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}
