import 'reflect-metadata';
import { bootstrapService, type TracingHandle } from '../../../libs/platform/src';
import { BootstrapAppModule } from './app.module';
import { BOOTSTRAP_SERVICE } from './bootstrap-service';

/** Starts the bootstrap service (HTTP + DHT); main.ts calls it once tracing is up. */
export function runBootstrapService(tracing?: TracingHandle) {
  return bootstrapService(BootstrapAppModule, { ...BOOTSTRAP_SERVICE, tracing });
}
