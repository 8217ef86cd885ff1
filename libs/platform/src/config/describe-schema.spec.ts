import { describeSchema } from './describe-schema';
import { env } from './env-schema';

describe('describeSchema', () => {
  it('renders one Markdown row per variable with default, allowed values and description', () => {
    const table = describeSchema({
      PORT: env.port({ description: 'HTTP | port', default: 8080 }),
      TOKEN: env.string({ description: 'API token', required: true, secret: true }),
      REDIS_URL: env.url({
        description: 'Redis',
        protocols: ['redis:'],
        default: 'redis://:pw@localhost:6379',
      }),
      WAIT: env.durationMs({ description: 'wait', default: 1500 }),
    });
    expect(table.split('\n')).toEqual([
      '| Variable | Default | Allowed | Description |',
      '| --- | --- | --- | --- |',
      '| `PORT` | `8080` | a TCP/UDP port, 0..65535 (0 = any free port) | HTTP \\| port |',
      '| `TOKEN` | **required** | text, at most 4096 characters | API token |',
      '| `REDIS_URL` | `redis://:***@localhost:6379` | a URL with scheme redis | Redis |',
      '| `WAIT` | `1500ms` | a duration: 1500 or 1500ms, 2s, 1.5m, 1h; any | wait |',
    ]);
  });
});
