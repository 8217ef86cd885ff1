import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeSchema, isPlatformError, loadConfig, platformSchema } from '../../../../libs/platform/src';
import { embeddedEnvTable } from '../../../../libs/platform/src/config/describe-schema';
import { BOOTSTRAP_SERVICE } from '../bootstrap-service';
import {
  advertisedAddress,
  bootstrapEntries,
  bootstrapNodeOptions,
  selfPingTarget,
} from '../dht/node-options';

const schema = platformSchema(BOOTSTRAP_SERVICE);
const load = (env: Record<string, string>) => loadConfig(schema, env);

describe('bootstrap service configuration', () => {
  it('is documented in the README exactly as the schema defines it', () => {
    const readme = readFileSync(join(__dirname, '../../../../README.md'), 'utf8');
    expect(embeddedEnvTable(readme, 'bootstrap')).toBe(describeSchema(schema));
  });

  it('runs with no variable set: UDP 6881 on every interface, HTTP 8081, no Redis', () => {
    const config = load({});
    expect(config.DHT_PORT).toBe(6881);
    expect(config.HTTP_PORT).toBe(8081);
    expect(config.DHT_BIND_ADDRESS).toBe('0.0.0.0');
    expect(config.REDIS_URL).toBeUndefined();
    const options = bootstrapNodeOptions(config, { increment: () => undefined, observe: () => undefined });
    expect(options).toMatchObject({
      bindPort: 6881,
      maintenance: 'external',
      bootstrapRole: { capacity: 1_000_000 },
    });
  });

  it('refuses bad values, naming each variable and what it allows', () => {
    let error: unknown;
    try {
      load({
        DHT_PORT: '70000',
        DHT_REGION: 'EU West',
        DHT_BUFFER_CAPACITY: '5',
        DHT_TRUSTED_NETWORKS: 'x;y',
      });
    } catch (err) {
      error = err;
    }
    expect(isPlatformError(error, 'CONFIG_INVALID')).toBe(true);
    const message = (error as Error).message;
    for (const name of ['DHT_PORT', 'DHT_REGION', 'DHT_BUFFER_CAPACITY', 'DHT_TRUSTED_NETWORKS']) {
      expect(message).toContain(name);
    }
    expect(message).toContain('0..65535');
  });

  it('keeps the bind address apart from the advertised one', () => {
    const config = load({ DHT_BIND_ADDRESS: '0.0.0.0', DHT_ADVERTISED_HOST: 'dht1.example.org' });
    expect(advertisedAddress(config, 6881)).toBe('dht1.example.org:6881');
    expect(selfPingTarget(config, 6881)).toBe('127.0.0.1:6881');
    const local = load({ DHT_BIND_ADDRESS: '127.0.3.4', DHT_ADVERTISED_PORT: '16881' });
    expect(advertisedAddress(local, 6881)).toBe('127.0.3.4:16881');
    expect(selfPingTarget(local, 6881)).toBe('127.0.3.4:6881');
  });

  it('turns DHT_BOOTSTRAP into library entries, pinned keys included', () => {
    const key = 'ab'.repeat(32);
    const config = load({ DHT_BOOTSTRAP: `dht2.example.org,${key}@10.0.0.3:7000,[2001:db8::1]:6881` });
    expect(bootstrapEntries(config)).toEqual([
      'dht2.example.org:6881',
      `${key}@10.0.0.3:7000`,
      '[2001:db8::1]:6881',
    ]);
  });
});
