import type { PlatformConfig, PlatformServiceOptions } from '../../../libs/platform/src';
import { BOOTSTRAP_DEFAULTS, BOOTSTRAP_ENV_SCHEMA } from './config/bootstrap-env';

/** What the platform knows of this service; passed to PlatformModule.forService() and bootstrapService(). */
export const BOOTSTRAP_SERVICE: PlatformServiceOptions<typeof BOOTSTRAP_ENV_SCHEMA> = {
  name: 'bootstrap',
  httpPort: BOOTSTRAP_DEFAULTS.httpPort,
  configSchema: BOOTSTRAP_ENV_SCHEMA,
};

export type BootstrapConfig = PlatformConfig<typeof BOOTSTRAP_ENV_SCHEMA>;
