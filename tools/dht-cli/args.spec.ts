import { idToHex, keyToId } from '../../libs/kademlia/src';
import { parseCommandLine, parseAddress, type LookupArgs, type PingArgs, type InfoArgs } from './args';
import { isCliError } from './cli-error';
import { CLI_DEFAULTS } from './defaults';

const KEY = 'ab'.repeat(32);

function usageMessage(argv: string[]): string {
  try {
    parseCommandLine(argv);
  } catch (err) {
    if (isCliError(err, 'usage')) return err.message;
    throw err;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

describe('parseCommandLine', () => {
  it('reads ping with its defaults', () => {
    const args = parseCommandLine(['ping', '127.0.0.1:6881']) as PingArgs;
    expect(args).toMatchObject({
      command: 'ping',
      count: CLI_DEFAULTS.pingCount,
      intervalMs: CLI_DEFAULTS.pingIntervalMs,
      timeoutMs: CLI_DEFAULTS.timeoutMs,
      json: false,
      target: { host: '127.0.0.1', port: 6881, publicKey: undefined },
    });
  });

  it('reads count, interval, timeout, --json and a pinned key', () => {
    const args = parseCommandLine([
      'ping',
      `${KEY}@[::1]:7000`,
      '-c',
      '5',
      '--interval',
      '0',
      '--timeout',
      '750',
      '--json',
    ]) as PingArgs;
    expect(args).toMatchObject({ count: 5, intervalMs: 0, timeoutMs: 750, json: true });
    expect(args.target).toMatchObject({ host: '::1', port: 7000 });
    expect(Buffer.from(args.target.publicKey!).toString('hex')).toBe(KEY);
  });

  it('reads a lookup by hex id with bootstrap entries given repeatedly and comma-separated', () => {
    const id = 'c'.repeat(40);
    const args = parseCommandLine([
      'lookup',
      id,
      '-b',
      'a.example:1,b.example:2',
      '--bootstrap',
      '10.0.0.1:3',
    ]) as LookupArgs;
    expect(idToHex(args.target.id)).toBe(id);
    expect(args.bootstrap.map((b) => b.text)).toEqual(['a.example:1', 'b.example:2', '10.0.0.1:3']);
    expect(args.value).toBe(false);
  });

  it('hashes a --key name the way the library names records', () => {
    const args = parseCommandLine(['lookup', '--key', 'alice', '--value', '-b', 'h:1']) as LookupArgs;
    expect(args.target).toEqual({ kind: 'key', name: 'alice', id: keyToId('alice') });
    expect(args.value).toBe(true);
  });

  it('reads info with an HTTP base URL and metric prefixes', () => {
    const args = parseCommandLine([
      'info',
      'dht1.example.org:6881',
      '--http',
      'http://10.0.0.5:8080',
      '--metrics',
      'kad_,up',
    ]) as InfoArgs;
    expect(args.http?.href).toBe('http://10.0.0.5:8080/');
    expect(args.metricPrefixes).toEqual(['kad_', 'up']);
  });

  it('answers help at the top level and per command', () => {
    expect(parseCommandLine([])).toEqual({ command: 'help', topic: undefined });
    expect(parseCommandLine(['--help'])).toEqual({ command: 'help', topic: undefined });
    expect(parseCommandLine(['help', 'lookup'])).toEqual({ command: 'help', topic: 'lookup' });
    expect(parseCommandLine(['info', '-h'])).toEqual({ command: 'help', topic: 'info' });
  });

  it.each([
    [['pong', 'h:1'], /unknown command "pong"/],
    [['ping'], /ping needs one address/],
    [['ping', 'localhost'], /bad address "localhost"/],
    [['ping', '127.0.0.1:0'], /bad address/],
    [['ping', '127.0.0.1:70000'], /bad address/],
    [['ping', 'bad host:1'], /bad address|neither an IP nor a host name/],
    [['ping', 'abcd@127.0.0.1:1'], /bad address/],
    [['ping', 'h:1', '--count', '0'], /--count must be an integer 1\.\.1000/],
    [['ping', 'h:1', '--count', '2.5'], /--count/],
    [['ping', 'h:1', '--timeout', '-1'], /--timeout/],
    [['ping', 'h:1', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['ping', 'h:1', '--bind', 'nowhere'], /--bind must be an IPv4 or IPv6 address/],
    [['lookup', 'xyz', '-b', 'h:1'], /bad id "xyz": expected 40 hex characters/],
    [['lookup', 'a'.repeat(40)], /needs --bootstrap/],
    [['lookup', '-b', 'h:1'], /needs an id/],
    [['lookup', 'a'.repeat(40), '--key', 'k', '-b', 'h:1'], /either an id or --key/],
    [['lookup', 'a'.repeat(40), '--value', '-b', 'h:1'], /--value looks up a key name/],
    [['lookup', '--key', 'k', '-b', 'h:1,nope'], /bad address "nope"/],
    [['info', 'h:1', '--http', 'ftp://x'], /http:\/\/ or https:\/\//],
    [['info', 'h:1', '--http', 'not a url'], /--http must be a URL/],
  ])('rejects %j', (argv, message) => {
    expect(usageMessage(argv)).toMatch(message);
  });
});

describe('parseAddress', () => {
  it('accepts IPv4, bracketed IPv6 and DNS names, and keeps the text for the resolver', () => {
    expect(parseAddress(' dht1.example.org:6881 ')).toMatchObject({
      text: 'dht1.example.org:6881',
      host: 'dht1.example.org',
    });
    expect(parseAddress('[2001:db8::1]:6881')).toMatchObject({ host: '2001:db8::1', port: 6881 });
    expect(parseAddress('192.0.2.7:1')).toMatchObject({ host: '192.0.2.7', port: 1 });
  });
});
