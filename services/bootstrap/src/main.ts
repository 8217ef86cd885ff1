// Tracing first: OpenTelemetry patches http and ioredis as they load, so it must start before Nest imports them.
import { startTracing } from '../../../libs/platform/src/tracing/start-tracing';

const tracing = startTracing({ serviceName: process.env.SERVICE_NAME ?? 'bootstrap' });

// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after tracing on purpose (see above)
const { runBootstrapService } = require('./run') as typeof import('./run');
void runBootstrapService(tracing);
