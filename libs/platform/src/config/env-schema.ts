/**
 * A tiny declarative schema for environment variables (no extra dependency). Each variable names its type,
 * default, what is allowed and why it exists; `loadConfig` turns a schema into a typed, frozen config object and
 * `describeSchema` into the Markdown table the README shows.
 *
 *   const schema = { HTTP_PORT: env.port({ default: 8080, description: 'HTTP port' }) };
 *   const config = loadConfig(schema); // config.HTTP_PORT: number
 */
import {
  HostPort,
  ParseOutcome,
  fail,
  maskUrlPassword,
  ok,
  parseBool,
  parseDurationMs,
  parseFilePath,
  parseHostPortList,
  parseInt10,
  parseUrl,
} from './env-parsers';

export type EnvVarType =
  | 'string'
  | 'int'
  | 'port'
  | 'bool'
  | 'enum'
  | 'url'
  | 'duration-ms'
  | 'host-port-list'
  | 'file';

/** One variable. `Optional` is true when it has neither a default nor `required` (its value may be undefined). */
export interface EnvVarSpec<T, Optional extends boolean = boolean> {
  readonly type: EnvVarType;
  readonly description: string;
  /** What a valid value looks like, in words: shown in error messages and in the docs table. */
  readonly allowed: string;
  readonly default?: T;
  /** The default as the docs show it (and as one would write it in the environment). */
  readonly defaultText?: string;
  readonly required: boolean;
  /** Parses a trimmed, non-empty value. */
  parse(raw: string): ParseOutcome<T>;
  /** How a raw value may appear in an error message (secrets hidden). */
  display(raw: string): string;
  /** Phantom marker for type inference only; never set. */
  readonly __optional?: Optional;
}

export type EnvSchema = Readonly<Record<string, EnvVarSpec<unknown, boolean>>>;

/** The typed, frozen configuration a schema produces. */
export type ConfigOf<S extends EnvSchema> = {
  readonly [K in keyof S]: S[K] extends EnvVarSpec<infer T, infer O>
    ? O extends true
      ? T | undefined
      : T
    : never;
};

interface Common<T> {
  description: string;
  default?: T;
  required?: boolean;
  /** Hide the value in error messages (tokens, passwords). */
  secret?: boolean;
}
type OptionalOf<O> = O extends { default: unknown } ? false : O extends { required: true } ? false : true;

const MAX_SHOWN_CHARS = 120;

function quote(raw: string): string {
  const shown = raw.length > MAX_SHOWN_CHARS ? `${raw.slice(0, MAX_SHOWN_CHARS)}…` : raw;
  return JSON.stringify(shown);
}

function build<T, O extends Common<T>>(
  o: O,
  parts: {
    type: EnvVarType;
    allowed: string;
    parse: (raw: string) => ParseOutcome<T>;
    show?: (value: T) => string;
    display?: (raw: string) => string;
  },
): EnvVarSpec<T, OptionalOf<O>> {
  const show = parts.show ?? ((v: T) => String(v));
  const display = o.secret ? (raw: string) => `<hidden, ${raw.length} characters>` : (parts.display ?? quote);
  return Object.freeze({
    type: parts.type,
    description: o.description,
    allowed: parts.allowed,
    default: o.default,
    defaultText: o.default === undefined ? undefined : show(o.default),
    required: o.required === true,
    parse: parts.parse,
    display,
  });
}

function rangeText(min: number | undefined, max: number | undefined, unit = ''): string {
  if (min !== undefined && max !== undefined) return `${min}${unit}..${max}${unit}`;
  if (min !== undefined) return `≥ ${min}${unit}`;
  if (max !== undefined) return `≤ ${max}${unit}`;
  return 'any';
}

interface StringOptions extends Common<string> {
  /** Whole-value pattern; `allowedText` explains it in words. */
  pattern?: RegExp;
  allowedText?: string;
  maxLength?: number;
}
interface RangeOptions extends Common<number> {
  min?: number;
  max?: number;
}
interface EnumOptions<V extends string> extends Common<V> {
  values: readonly V[];
}
interface UrlOptions extends Common<string> {
  /** Allowed schemes with their colon, as `URL.protocol` spells them: `['redis:', 'rediss:']`. */
  protocols?: readonly string[];
}
interface HostPortListOptions extends Common<readonly HostPort[]> {
  /** Port used when an entry has none; without it every entry must name its port. */
  defaultPort?: number;
  /** Most entries accepted; keeps a typo from expanding into thousands of dial attempts. */
  maxEntries?: number;
}
interface FileOptions extends Common<string> {
  /** Check at start-up that the file exists and is readable (a missing key file should stop the service). */
  mustExist?: boolean;
}

const DEFAULT_MAX_STRING = 4_096;
const DEFAULT_MAX_HOST_PORTS = 64;

export const env = {
  string<const O extends StringOptions>(o: O): EnvVarSpec<string, OptionalOf<O>> {
    const maxLength = o.maxLength ?? DEFAULT_MAX_STRING;
    return build<string, O>(o, {
      type: 'string',
      allowed:
        o.allowedText ?? (o.pattern ? `text matching ${o.pattern}` : `text, at most ${maxLength} characters`),
      parse: (raw) => {
        if (raw.length > maxLength) return fail(`longer than ${maxLength} characters`);
        if (o.pattern && !o.pattern.test(raw)) return fail('does not match the expected form');
        return ok(raw);
      },
    });
  },

  int<const O extends RangeOptions>(o: O): EnvVarSpec<number, OptionalOf<O>> {
    return build<number, O>(o, {
      type: 'int',
      allowed: `an integer, ${rangeText(o.min, o.max)}`,
      parse: (raw) => parseInt10(raw, o),
    });
  },

  port<const O extends Common<number>>(o: O): EnvVarSpec<number, OptionalOf<O>> {
    return build<number, O>(o, {
      type: 'port',
      allowed: 'a TCP/UDP port, 0..65535 (0 = any free port)',
      parse: (raw) => parseInt10(raw, { min: 0, max: 65_535 }),
    });
  },

  bool<const O extends Common<boolean>>(o: O): EnvVarSpec<boolean, OptionalOf<O>> {
    return build<boolean, O>(o, {
      type: 'bool',
      allowed: 'true/false (also 1/0, yes/no, on/off)',
      parse: parseBool,
    });
  },

  enum<const V extends string, const O extends EnumOptions<V>>(
    o: O & { values: readonly V[] },
  ): EnvVarSpec<V, OptionalOf<O>> {
    const values: readonly string[] = o.values;
    return build<V, O>(o, {
      type: 'enum',
      allowed: `one of: ${values.join(', ')}`,
      parse: (raw) => (values.includes(raw) ? ok(raw as V) : fail('not one of the allowed values')),
    });
  },

  url<const O extends UrlOptions>(o: O): EnvVarSpec<string, OptionalOf<O>> {
    const schemes = o.protocols?.map((p) => p.replace(/:$/, '')).join(', ');
    return build<string, O>(o, {
      type: 'url',
      allowed: schemes ? `a URL with scheme ${schemes}` : 'a URL',
      parse: (raw) => parseUrl(raw, o.protocols),
      show: maskUrlPassword,
      display: (raw) => quote(maskUrlPassword(raw)),
    });
  },

  durationMs<const O extends RangeOptions>(o: O): EnvVarSpec<number, OptionalOf<O>> {
    return build<number, O>(o, {
      type: 'duration-ms',
      allowed: `a duration: 1500 or 1500ms, 2s, 1.5m, 1h; ${rangeText(o.min, o.max, ' ms')}`,
      parse: (raw) => parseDurationMs(raw, o),
      show: (v) => `${v}ms`,
    });
  },

  hostPortList<const O extends HostPortListOptions>(o: O): EnvVarSpec<readonly HostPort[], OptionalOf<O>> {
    const maxEntries = o.maxEntries ?? DEFAULT_MAX_HOST_PORTS;
    const portNote = o.defaultPort === undefined ? 'port required' : `port defaults to ${o.defaultPort}`;
    return build<readonly HostPort[], O>(o, {
      type: 'host-port-list',
      allowed: `comma-separated host:port, [ipv6]:port or key@host:port (${portNote}), at most ${maxEntries}`,
      parse: (raw) => parseHostPortList(raw, { defaultPort: o.defaultPort, maxEntries }),
      show: (list) =>
        list
          .map((e) => `${e.key ? `${e.key}@` : ''}${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`)
          .join(','),
    });
  },

  filePath<const O extends FileOptions>(o: O): EnvVarSpec<string, OptionalOf<O>> {
    return build<string, O>(o, {
      type: 'file',
      allowed: o.mustExist ? 'a path to an existing, readable file' : 'a file path',
      parse: (raw) => parseFilePath(raw, o.mustExist === true),
    });
  },
};

export type { HostPort };
