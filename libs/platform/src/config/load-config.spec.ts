import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPlatformError } from '../errors';
import { commonEnvSchema } from './common-schema';
import { ConfigError } from './config-error';
import { env } from './env-schema';
import { loadConfig } from './load-config';

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  const schema = {
    ...commonEnvSchema({ serviceName: 'test-svc', httpPort: 9000 }),
    PEERS: env.hostPortList({ description: 'peers', defaultPort: 6881 }),
    INTERVAL_MS: env.durationMs({ description: 'interval', default: 1_000, min: 10 }),
    WORKERS: env.int({ description: 'workers', default: 4, min: 1, max: 64 }),
    VERBOSE: env.bool({ description: 'verbose', default: false }),
    API_TOKEN: env.string({ description: 'token', required: true, secret: true }),
  };

  it('applies defaults and parses typed values', () => {
    const config = loadConfig(schema, {
      API_TOKEN: 's3cret',
      PEERS: 'dht1.example.org, 10.0.0.2:7000,[2001:db8::1]:6000, abc_-DEF@node.example:6882',
      INTERVAL_MS: '2.5s',
      VERBOSE: 'yes',
    });
    expect(config).toMatchObject({
      SERVICE_NAME: 'test-svc',
      LOG_LEVEL: 'info',
      HTTP_HOST: '0.0.0.0',
      HTTP_PORT: 9000,
      REDIS_URL: undefined,
      INTERVAL_MS: 2_500,
      WORKERS: 4,
      VERBOSE: true,
      API_TOKEN: 's3cret',
    });
    expect(config.PEERS).toEqual([
      { host: 'dht1.example.org', port: 6881 },
      { host: '10.0.0.2', port: 7000 },
      { host: '2001:db8::1', port: 6000 },
      { host: 'node.example', port: 6882, key: 'abc_-DEF' },
    ]);
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig(schema, { API_TOKEN: 't', PEERS: 'a.example:1' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.PEERS)).toBe(true);
    expect(Object.isFrozen(config.PEERS?.[0])).toBe(true);
  });

  it('treats an empty value as unset', () => {
    const config = loadConfig(schema, { API_TOKEN: 't', HTTP_PORT: '', LOG_LEVEL: '   ' });
    expect(config.HTTP_PORT).toBe(9000);
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('names every wrong variable, its value and what is allowed, in one error', () => {
    const err = configErrorOf(() =>
      loadConfig(schema, {
        HTTP_PORT: '70000',
        LOG_LEVEL: 'loud',
        REDIS_URL: 'http://cache:6379',
        INTERVAL_MS: 'soon',
        WORKERS: '0',
        VERBOSE: 'maybe',
        PEERS: 'good.example:1,bad!host:2',
      }),
    );
    expect(isPlatformError(err, 'CONFIG_INVALID')).toBe(true);
    expect(err.problems.map((p) => p.variable).sort()).toEqual(
      [
        'API_TOKEN',
        'HTTP_PORT',
        'INTERVAL_MS',
        'LOG_LEVEL',
        'PEERS',
        'REDIS_URL',
        'VERBOSE',
        'WORKERS',
      ].sort(),
    );
    expect(err.message).toContain('8 environment variables are wrong');
    expect(err.message).toContain(
      'HTTP_PORT="70000": above the maximum 65535. Allowed: a TCP/UDP port, 0..65535',
    );
    expect(err.message).toContain('LOG_LEVEL="loud"');
    expect(err.message).toContain('one of: fatal, error, warn, info, debug, trace, silent');
    expect(err.message).toContain('REDIS_URL="http://cache:6379": scheme http: is not allowed');
    expect(err.message).toContain('API_TOKEN is not set');
    expect(err.message).toContain('WORKERS="0": below the minimum 1');
  });

  it('never prints a secret or a URL password in the error', () => {
    const err = configErrorOf(() =>
      loadConfig(
        { ...schema, API_TOKEN: env.int({ description: 'numeric token', secret: true }) },
        { API_TOKEN: 'hunter2', REDIS_URL: 'ftp://user:pa55word@cache:6379' },
      ),
    );
    expect(err.message).not.toContain('hunter2');
    expect(err.message).not.toContain('pa55word');
    expect(err.message).toContain('API_TOKEN=<hidden, 7 characters>');
    expect(err.message).toContain('ftp://user:***@cache:6379');
  });

  it('checks that a file exists when asked to', () => {
    const dir = mkdtempSync(join(tmpdir(), 'platform-config-'));
    try {
      const keyFile = join(dir, 'node.key');
      writeFileSync(keyFile, 'x');
      const fileSchema = { KEY_FILE: env.filePath({ description: 'key', mustExist: true }) };
      expect(loadConfig(fileSchema, { KEY_FILE: keyFile }).KEY_FILE).toBe(keyFile);
      const err = configErrorOf(() => loadConfig(fileSchema, { KEY_FILE: join(dir, 'missing.key') }));
      expect(err.problems[0]).toMatchObject({
        variable: 'KEY_FILE',
        reason: 'file does not exist or cannot be read',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
