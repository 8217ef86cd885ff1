import { lookup } from 'node:dns/promises';
import { isKademliaError } from '../errors';
import { parseBootstrapEntry, resolveBootstrapEntries, type BootstrapEntry } from './bootstrap-entries';

const KEY_HEX = 'ab'.repeat(32);
const KEY = new Uint8Array(Buffer.from(KEY_HEX, 'hex'));

function expectConfigInvalid(entry: BootstrapEntry): void {
  let caught: unknown;
  try {
    parseBootstrapEntry(entry);
  } catch (err) {
    caught = err;
  }
  expect(isKademliaError(caught, 'CONFIG_INVALID')).toBe(true);
}

describe('parseBootstrapEntry', () => {
  it("parses 'host:port' with a name or an IPv4 address", () => {
    expect(parseBootstrapEntry('boot.example.org:6881')).toEqual({
      host: 'boot.example.org',
      port: 6881,
      publicKey: undefined,
    });
    expect(parseBootstrapEntry('192.0.2.7:1')).toEqual({ host: '192.0.2.7', port: 1, publicKey: undefined });
    expect(parseBootstrapEntry('  localhost:65535  ')).toMatchObject({ host: 'localhost', port: 65535 });
  });

  it("parses '[ipv6]:port' without the brackets", () => {
    expect(parseBootstrapEntry('[::1]:6881')).toEqual({ host: '::1', port: 6881, publicKey: undefined });
    expect(parseBootstrapEntry('[2001:db8::5]:4000')).toMatchObject({ host: '2001:db8::5', port: 4000 });
  });

  it("parses a pinned key written '<64 hex>@host:port'", () => {
    const parsed = parseBootstrapEntry(`${KEY_HEX}@boot.example.org:6881`);
    expect(parsed.host).toBe('boot.example.org');
    expect(parsed.port).toBe(6881);
    expect(parsed.publicKey).toEqual(KEY);
    expect(parseBootstrapEntry(`${KEY_HEX.toUpperCase()}@[::1]:7`)).toEqual({
      host: '::1',
      port: 7,
      publicKey: KEY,
    });
  });

  it('accepts objects, stripping IPv6 brackets and keeping a pinned key', () => {
    expect(parseBootstrapEntry({ host: '192.0.2.1', port: 6881 })).toEqual({
      host: '192.0.2.1',
      port: 6881,
      publicKey: undefined,
    });
    expect(parseBootstrapEntry({ host: '[::1]', port: 80, publicKey: KEY })).toEqual({
      host: '::1',
      port: 80,
      publicKey: KEY,
    });
  });

  it('rejects ports outside 1..65535', () => {
    for (const entry of ['host:0', 'host:65536', 'host:99999999', '[::1]:0']) expectConfigInvalid(entry);
    for (const port of [0, -1, 65536, 1.5, NaN]) expectConfigInvalid({ host: 'host', port });
  });

  it('rejects strings that are not host:port', () => {
    const bad = [
      '',
      'host',
      'host:',
      ':6881',
      'host:port',
      'host:-1',
      'host:6881:1',
      '::1:6881',
      '[::1]',
      '[::1]6881',
      '[]:6881',
      'http://host:6881',
    ];
    for (const entry of bad) expectConfigInvalid(entry);
  });

  it('rejects pinned keys that are not 64 hex characters', () => {
    for (const key of ['', 'ab'.repeat(31), 'ab'.repeat(33), 'zz'.repeat(32)]) {
      expectConfigInvalid(`${key}@host:6881`);
    }
  });

  it('rejects with CONFIG_INVALID (not a TypeError) anything that is neither a string nor an object', () => {
    for (const entry of [null, undefined, 6881, true, Symbol('entry')]) {
      expectConfigInvalid(entry as unknown as BootstrapEntry);
    }
  });

  it('rejects a pinned key that is not a 32-byte Uint8Array', () => {
    const keys = [KEY_HEX, Array.from(KEY), Buffer.from(KEY).toString('base64'), { length: 32 }, null];
    for (const publicKey of keys) {
      expectConfigInvalid({ host: 'host', port: 6881, publicKey: publicKey as unknown as Uint8Array });
    }
    expect(parseBootstrapEntry({ host: 'host', port: 6881, publicKey: Buffer.from(KEY) }).publicKey).toEqual(
      Buffer.from(KEY),
    );
  });

  it('rejects objects with an empty or missing host or a key of the wrong size', () => {
    expectConfigInvalid({ host: '', port: 6881 });
    expectConfigInvalid({ host: undefined as unknown as string, port: 6881 });
    expectConfigInvalid({ host: 'host', port: 6881, publicKey: new Uint8Array(31) });
    expectConfigInvalid({ host: 'host', port: '6881' as unknown as number });
  });
});

describe('resolveBootstrapEntries', () => {
  it('passes IP literals through without DNS', async () => {
    const { peers, failures } = await resolveBootstrapEntries([
      '192.0.2.1:6881',
      '[2001:db8::1]:6882',
      { host: '198.51.100.2', port: 7000, publicKey: KEY },
    ]);
    expect(failures).toEqual([]);
    expect(peers).toEqual([
      { endpoint: { host: '192.0.2.1', port: 6881 }, publicKey: undefined },
      { endpoint: { host: '2001:db8::1', port: 6882 }, publicKey: undefined },
      { endpoint: { host: '198.51.100.2', port: 7000 }, publicKey: KEY },
    ]);
  });

  it("resolves a name to every one of its addresses ('localhost' through the hosts file)", async () => {
    const expected = (await lookup('localhost', { all: true, verbatim: true })).map((a) => a.address);
    const { peers, failures } = await resolveBootstrapEntries([`${KEY_HEX}@localhost:6881`]);
    expect(failures).toEqual([]);
    const hosts = peers.map((p) => p.endpoint.host);
    expect(new Set(hosts)).toEqual(
      new Set(expected.map((h) => (h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h))),
    );
    expect(hosts.some((h) => h === '127.0.0.1' || h === '::1')).toBe(true);
    for (const peer of peers) {
      expect(peer.endpoint.port).toBe(6881);
      expect(peer.publicKey).toEqual(KEY);
    }
  });

  it('lists each address and port once', async () => {
    const { peers } = await resolveBootstrapEntries([
      '127.0.0.1:6881',
      '127.0.0.1:6881',
      'localhost:6881',
      '127.0.0.1:6882',
    ]);
    const keys = peers.map((p) => `${p.endpoint.host}|${p.endpoint.port}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain('127.0.0.1|6881');
    expect(keys).toContain('127.0.0.1|6882');
  });

  it('keeps the pinned entry when the same address is also listed without a key, in either order', async () => {
    for (const entries of [
      ['127.0.0.1:6881', `${KEY_HEX}@127.0.0.1:6881`],
      [`${KEY_HEX}@127.0.0.1:6881`, '127.0.0.1:6881'],
    ]) {
      const { peers } = await resolveBootstrapEntries(entries);
      expect(peers).toEqual([{ endpoint: { host: '127.0.0.1', port: 6881 }, publicKey: KEY }]);
    }
  });

  it('keeps each distinct pinned key at one address (only the node holding one of them can answer)', async () => {
    const other = 'cd'.repeat(32);
    const { peers } = await resolveBootstrapEntries([
      `${KEY_HEX}@127.0.0.1:6881`,
      `${other}@127.0.0.1:6881`,
      `${KEY_HEX}@127.0.0.1:6881`,
    ]);
    expect(peers.map((p) => Buffer.from(p.publicKey!).toString('hex'))).toEqual([KEY_HEX, other]);
  });

  it('lists an address once however it is written (IPv4-mapped, upper case, uncompressed IPv6)', async () => {
    const { peers } = await resolveBootstrapEntries([
      '127.0.0.1:6881',
      '[::ffff:127.0.0.1]:6881',
      '[2001:DB8:0::1]:6881',
      '[2001:db8::1]:6881',
      { host: '2001:0db8:0000::1', port: 6881 },
    ]);
    expect(peers).toEqual([
      { endpoint: { host: '127.0.0.1', port: 6881 }, publicKey: undefined },
      { endpoint: { host: '2001:db8::1', port: 6881 }, publicKey: undefined },
    ]);
  });

  it('reports names that do not resolve as failures and still returns the rest', async () => {
    const { peers, failures } = await resolveBootstrapEntries([
      'no-such-host.invalid:6881',
      '192.0.2.9:6881',
    ]);
    expect(peers).toEqual([{ endpoint: { host: '192.0.2.9', port: 6881 }, publicKey: undefined }]);
    expect(failures).toHaveLength(1);
    expect(failures[0].entry).toBe('no-such-host.invalid:6881');
    expect(failures[0].error).toEqual(expect.any(String));
  });

  it('returns empty lists for no entries', async () => {
    await expect(resolveBootstrapEntries([])).resolves.toEqual({ peers: [], failures: [] });
  });

  it('turns IPv4-mapped IPv6 hosts into plain IPv4', async () => {
    const { peers } = await resolveBootstrapEntries(['[::ffff:192.0.2.44]:6881']);
    expect(peers).toEqual([{ endpoint: { host: '192.0.2.44', port: 6881 }, publicKey: undefined }]);
  });

  it('rejects with CONFIG_INVALID when an entry is malformed', async () => {
    await expect(resolveBootstrapEntries(['192.0.2.1:6881', 'nonsense'])).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});
