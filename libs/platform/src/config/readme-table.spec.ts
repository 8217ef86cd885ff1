import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commonEnvSchema } from './common-schema';
import { describeSchema, embeddedEnvTable } from './describe-schema';

describe('libs/platform/README.md', () => {
  it('shows the current table of common environment variables', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    // If this fails, paste the expected table between the env-table:common markers.
    expect(embeddedEnvTable(readme, 'common')).toBe(
      describeSchema(commonEnvSchema({ serviceName: '<service>' })),
    );
  });
});
