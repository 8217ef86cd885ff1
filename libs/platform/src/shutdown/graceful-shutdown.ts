import { LoggerLike } from '../logging/logger-like';

/** The slice of `process` the shutdown handler uses; tests pass an EventEmitter with a recording `exit`. */
export interface ProcessLike {
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

export interface GracefulShutdownOptions {
  /** What to close: a Nest application (its close() runs every shutdown hook and stops the HTTP server). */
  app: { close(): Promise<void> };
  /** Force exit (code 1) if closing takes longer than this. */
  timeoutMs: number;
  logger: LoggerLike;
  /** Runs first, before anything closes (mark the service not-ready). */
  onShutdownStart?: () => void;
  /** Runs after the app closed, before exit (flush traces). */
  afterClose?: () => Promise<void>;
  signals?: readonly NodeJS.Signals[];
  proc?: ProcessLike;
}

/**
 * On SIGTERM/SIGINT: mark not-ready, close the app (Nest runs onModuleDestroy → beforeApplicationShutdown →
 * HTTP server close → onApplicationShutdown), flush traces, exit 0. A watchdog exits 1 if a hook hangs, and a
 * second signal exits 1 at once (an impatient Ctrl-C). Used instead of Nest's enableShutdownHooks(), which
 * re-raises the signal (exit status 143, not 0) and has no watchdog.
 * Returns a function that removes the signal listeners.
 */
export function installGracefulShutdown(opts: GracefulShutdownOptions): () => void {
  const proc = opts.proc ?? process;
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  let started = false;
  let watchdog: NodeJS.Timeout | undefined;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (started) {
      opts.logger.warn(`Received ${signal} again during shutdown; exiting now`);
      clearTimeout(watchdog);
      proc.exit(1);
      return;
    }
    started = true;
    opts.logger.log(`Received ${signal}; shutting down (at most ${opts.timeoutMs} ms)`);
    watchdog = setTimeout(() => {
      opts.logger.error(`Shutdown did not finish within ${opts.timeoutMs} ms; forcing exit`);
      proc.exit(1);
    }, opts.timeoutMs);
    void (async () => {
      let code = 0;
      try {
        opts.onShutdownStart?.();
        await opts.app.close();
        await opts.afterClose?.();
        opts.logger.log('Shutdown complete');
      } catch (err) {
        code = 1;
        opts.logger.error(
          `Shutdown failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
      } finally {
        clearTimeout(watchdog);
        proc.exit(code);
      }
    })();
  };

  for (const signal of signals) proc.on(signal, onSignal);
  return () => {
    for (const signal of signals) proc.removeListener(signal, onSignal);
  };
}
