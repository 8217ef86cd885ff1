/**
 * Parsers for environment-variable values. Each takes the trimmed, non-empty raw text and returns the typed value
 * or a reason; none throws, so one bad variable never hides the next one from the error report.
 */
import { statSync } from 'node:fs';

export type ParseOutcome<T> = { ok: true; value: T } | { ok: false; reason: string };

export const ok = <T>(value: T): ParseOutcome<T> => ({ ok: true, value });
export const fail = <T = never>(reason: string): ParseOutcome<T> => ({ ok: false, reason });

/** A `host:port` entry, optionally pinned to a public key as `key@host:port` (see DESIGN.md §1). */
export interface HostPort {
  readonly host: string;
  readonly port: number;
  readonly key?: string;
}

const INT_RE = /^[+-]?\d+$/;

export function parseInt10(raw: string, range: { min?: number; max?: number }): ParseOutcome<number> {
  if (!INT_RE.test(raw)) return fail('not an integer');
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) return fail('integer out of range');
  if (range.min !== undefined && value < range.min) return fail(`below the minimum ${range.min}`);
  if (range.max !== undefined && value > range.max) return fail(`above the maximum ${range.max}`);
  return ok(value);
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

export function parseBool(raw: string): ParseOutcome<boolean> {
  const word = raw.toLowerCase();
  if (TRUE_WORDS.has(word)) return ok(true);
  if (FALSE_WORDS.has(word)) return ok(false);
  return fail('not a boolean');
}

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `1500` and `1500ms` are milliseconds; `2s`, `1.5m`, `1h` are converted. The result is a whole number of ms. */
export function parseDurationMs(raw: string, range: { min?: number; max?: number }): ParseOutcome<number> {
  const match = DURATION_RE.exec(raw);
  if (!match) return fail('not a duration');
  const ms = Number(match[1]) * UNIT_MS[(match[2] ?? 'ms').toLowerCase()];
  if (!Number.isFinite(ms) || !Number.isInteger(ms)) return fail('not a whole number of milliseconds');
  if (range.min !== undefined && ms < range.min) return fail(`below the minimum ${range.min} ms`);
  if (range.max !== undefined && ms > range.max) return fail(`above the maximum ${range.max} ms`);
  return ok(ms);
}

export function parseUrl(raw: string, protocols: readonly string[] | undefined): ParseOutcome<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('not a URL');
  }
  if (protocols && !protocols.includes(url.protocol)) return fail(`scheme ${url.protocol} is not allowed`);
  return ok(raw);
}

/** Hides the password of a URL (`redis://:secret@host` → `redis://:***@host`) so errors and logs never leak it. */
export function maskUrlPassword(raw: string): string {
  try {
    const url = new URL(raw);
    if (!url.password) return raw;
    url.password = '***';
    return url.toString();
  } catch {
    // An unparseable value may still hold a secret after "scheme://user:"; hide everything between : and @.
    return raw.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}

const HOSTNAME_RE =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV6_RE = /^[0-9A-Fa-f:.]+(?:%[\w.-]+)?$/;
const KEY_RE = /^[A-Za-z0-9_-]{1,128}$/;

export function parseHostPort(entry: string, defaultPort: number | undefined): ParseOutcome<HostPort> {
  let rest = entry;
  let key: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    key = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!KEY_RE.test(key)) return fail(`"${entry}": the key before @ must be 1-128 base64url characters`);
  }
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return fail(`"${entry}": missing ]`);
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return fail(`"${entry}": expected :port after ]`);
    portText = after === '' ? undefined : after.slice(1);
    if (!IPV6_RE.test(host)) return fail(`"${entry}": not an IPv6 address inside []`);
  } else if ((rest.match(/:/g) ?? []).length > 1) {
    // A bare IPv6 address cannot carry a port without brackets.
    host = rest;
    if (!IPV6_RE.test(host)) return fail(`"${entry}": not a host`);
  } else {
    const colon = rest.indexOf(':');
    host = colon < 0 ? rest : rest.slice(0, colon);
    portText = colon < 0 ? undefined : rest.slice(colon + 1);
    if (!HOSTNAME_RE.test(host)) return fail(`"${entry}": not a host name or address`);
  }
  let port = defaultPort;
  if (portText !== undefined) {
    const parsed = parseInt10(portText, { min: 1, max: 65_535 });
    if (!parsed.ok) return fail(`"${entry}": port ${parsed.reason}`);
    port = parsed.value;
  }
  if (port === undefined) return fail(`"${entry}": a port is required`);
  return ok(key === undefined ? { host, port } : { host, port, key });
}

export function parseHostPortList(
  raw: string,
  opts: { defaultPort?: number; maxEntries: number },
): ParseOutcome<HostPort[]> {
  const entries = raw.split(/[\s,]+/).filter((e) => e !== '');
  if (entries.length > opts.maxEntries) return fail(`more than ${opts.maxEntries} entries`);
  const out: HostPort[] = [];
  for (const entry of entries) {
    const parsed = parseHostPort(entry, opts.defaultPort);
    if (!parsed.ok) return parsed;
    out.push(parsed.value);
  }
  return ok(out);
}

export function parseFilePath(raw: string, mustExist: boolean): ParseOutcome<string> {
  if (raw.includes('\0')) return fail('contains a NUL byte');
  if (!mustExist) return ok(raw);
  try {
    return statSync(raw).isFile() ? ok(raw) : fail('not a regular file');
  } catch {
    return fail('file does not exist or cannot be read');
  }
}
