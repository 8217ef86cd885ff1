import { isIP } from 'node:net';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { idFromHex, keyToId, parseBootstrapEntry, type NodeId } from '../../libs/kademlia/src';
import { usageError } from './cli-error';
import { CLI_DEFAULTS } from './defaults';

export const COMMANDS = ['ping', 'lookup', 'info'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** A node's address as the operator typed it, checked: 'host:port', '[v6]:port' or '<hex key>@host:port'. */
export interface TargetAddress {
  /** The text as given; the library resolves it (DNS names to every address). */
  readonly text: string;
  readonly host: string;
  readonly port: number;
  /** Pinned static key: only a node holding it counts as an answer. */
  readonly publicKey?: Uint8Array;
}

export type LookupTarget =
  | { readonly kind: 'id'; readonly id: NodeId }
  | { readonly kind: 'key'; readonly name: string; readonly id: NodeId };

export interface CommonArgs {
  readonly json: boolean;
  /** Bound of each network operation. */
  readonly timeoutMs: number;
  /** Local address of the CLI's client node; the library's default (all interfaces, both families) if absent. */
  readonly bindAddress?: string;
}

export interface PingArgs extends CommonArgs {
  readonly command: 'ping';
  readonly target: TargetAddress;
  readonly count: number;
  readonly intervalMs: number;
}

export interface LookupArgs extends CommonArgs {
  readonly command: 'lookup';
  readonly target: LookupTarget;
  /** FIND_VALUE for a key name instead of FIND_NODE. */
  readonly value: boolean;
  readonly bootstrap: readonly TargetAddress[];
}

export interface InfoArgs extends CommonArgs {
  readonly command: 'info';
  readonly target: TargetAddress;
  /** Base URL of the node's HTTP side (bootstrap service): /health/ready and /metrics are fetched below it. */
  readonly http?: URL;
  readonly metricPrefixes: readonly string[];
}

export interface HelpArgs {
  readonly command: 'help';
  readonly topic?: CommandName;
}

export type CliArgs = PingArgs | LookupArgs | InfoArgs | HelpArgs;

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON_OPTIONS: Options = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  timeout: { type: 'string', short: 't' },
  bind: { type: 'string' },
};

const COMMAND_OPTIONS: Record<CommandName, Options> = {
  ping: { count: { type: 'string', short: 'c' }, interval: { type: 'string', short: 'i' } },
  lookup: {
    key: { type: 'string', short: 'k' },
    bootstrap: { type: 'string', short: 'b', multiple: true },
    value: { type: 'boolean' },
  },
  info: { http: { type: 'string' }, metrics: { type: 'string' } },
};

type Values = Record<string, string | boolean | Array<string | boolean> | undefined>;

/** argv without the node binary and script: `['ping', '127.0.0.1:6881', '--count', '5']`. */
export function parseCommandLine(argv: readonly string[]): CliArgs {
  const [first, ...rest] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    const topic = rest[0];
    return { command: 'help', topic: isCommand(topic) ? topic : undefined };
  }
  if (!isCommand(first))
    throw usageError(`unknown command ${JSON.stringify(first)} (expected ${COMMANDS.join(', ')})`);
  const { values, positionals } = parseOptions(first, rest);
  if (values.help === true) return { command: 'help', topic: first };
  const common = parseCommon(values);
  switch (first) {
    case 'ping':
      return {
        command: 'ping',
        ...common,
        target: parseAddress(onePositional(positionals, 'ping needs one address: dht ping <host:port>')),
        count:
          parseInteger(values.count, { name: '--count', min: 1, max: CLI_DEFAULTS.maxPingCount }) ??
          CLI_DEFAULTS.pingCount,
        intervalMs:
          parseInteger(values.interval, {
            name: '--interval',
            min: 0,
            max: CLI_DEFAULTS.maxPingIntervalMs,
          }) ?? CLI_DEFAULTS.pingIntervalMs,
      };
    case 'lookup':
      return { command: 'lookup', ...common, ...parseLookup(values, positionals) };
    case 'info':
      return {
        command: 'info',
        ...common,
        target: parseAddress(onePositional(positionals, 'info needs one address: dht info <host:port>')),
        http: values.http === undefined ? undefined : parseHttpUrl(String(values.http)),
        metricPrefixes:
          values.metrics === undefined
            ? CLI_DEFAULTS.metricPrefixes
            : splitList(String(values.metrics), '--metrics'),
      };
  }
}

/** Checks an address the way the library will read it, plus a host that can be an IP literal or a DNS name. */
export function parseAddress(text: string): TargetAddress {
  const hint = 'expected host:port, [ipv6]:port or <64-hex-char public key>@host:port';
  let parsed: ReturnType<typeof parseBootstrapEntry>;
  try {
    parsed = parseBootstrapEntry(text);
  } catch {
    throw usageError(`bad address ${JSON.stringify(text)}: ${hint}`);
  }
  const isName =
    /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;
  if (isIP(parsed.host) === 0 && !isName.test(parsed.host)) {
    throw usageError(
      `bad address ${JSON.stringify(text)}: ${JSON.stringify(parsed.host)} is neither an IP nor a host name`,
    );
  }
  return { text: text.trim(), host: parsed.host, port: parsed.port, publicKey: parsed.publicKey };
}

/** A 160-bit NodeId or record key as 40 hex characters. */
export function parseNodeIdHex(text: string): NodeId {
  try {
    return idFromHex(text);
  } catch {
    throw usageError(
      `bad id ${JSON.stringify(text.slice(0, 60))}: expected 40 hex characters (a 160-bit id); use --key <name> for a key name`,
    );
  }
}

function parseLookup(
  values: Values,
  positionals: string[],
): Pick<LookupArgs, 'target' | 'value' | 'bootstrap'> {
  const key = values.key === undefined ? undefined : String(values.key);
  if (positionals.length > 1) throw usageError('lookup takes one id (or --key <name>)');
  if (key !== undefined && positionals.length === 1)
    throw usageError('give either an id or --key <name>, not both');
  if (key === undefined && positionals.length === 0)
    throw usageError('lookup needs an id (40 hex chars) or --key <name>');
  if (key !== undefined && key.length === 0) throw usageError('--key must not be empty');
  const value = values.value === true;
  // findValue hashes what it is given; a raw id would be hashed again and name a different record.
  if (value && key === undefined) throw usageError('--value looks up a key name: use --key <name>');
  const bootstrapTexts = ((values.bootstrap as string[] | undefined) ?? []).flatMap((v) =>
    splitList(v, '--bootstrap'),
  );
  if (bootstrapTexts.length === 0) throw usageError('lookup needs --bootstrap <host:port>[,<host:port>...]');
  return {
    target:
      key === undefined
        ? { kind: 'id', id: parseNodeIdHex(positionals[0]) }
        : { kind: 'key', name: key, id: keyToId(key) },
    value,
    bootstrap: bootstrapTexts.map(parseAddress),
  };
}

function parseOptions(command: CommandName, args: string[]): { values: Values; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...COMMAND_OPTIONS[command] },
      allowPositionals: true,
      strict: true,
    });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (err) {
    // node:util reports unknown options and missing option values as TypeErrors with a readable message.
    throw usageError(`${command}: ${(err as Error).message}`);
  }
}

function parseCommon(values: Values): CommonArgs {
  const bind = values.bind === undefined ? undefined : String(values.bind);
  if (bind !== undefined && isIP(bind) === 0)
    throw usageError(`--bind must be an IPv4 or IPv6 address (got ${JSON.stringify(bind)})`);
  return {
    json: values.json === true,
    timeoutMs:
      parseInteger(values.timeout, { name: '--timeout', min: 1, max: CLI_DEFAULTS.maxTimeoutMs }) ??
      CLI_DEFAULTS.timeoutMs,
    bindAddress: bind,
  };
}

export function parseInteger(
  raw: Values[string],
  range: { name: string; min: number; max: number },
): number | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw);
  const value = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(value >= range.min && value <= range.max)) {
    throw usageError(
      `${range.name} must be an integer ${range.min}..${range.max} (got ${JSON.stringify(text)})`,
    );
  }
  return value;
}

function parseHttpUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--http must be a URL such as http://10.0.0.5:8080 (got ${JSON.stringify(text)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`--http must be an http:// or https:// URL (got ${JSON.stringify(text)})`);
  }
  return url;
}

function splitList(text: string, name: string): string[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw usageError(`${name} must not be empty`);
  return items;
}

function onePositional(positionals: string[], message: string): string {
  if (positionals.length !== 1) throw usageError(message);
  return positionals[0];
}

function isCommand(value: string | undefined): value is CommandName {
  return (COMMANDS as readonly string[]).includes(value ?? '');
}
