import { EventEmitter } from 'node:events';
import { installGracefulShutdown } from './graceful-shutdown';

/** A process stand-in: signals are emitted by the test, exit() resolves a promise with the code. */
class FakeProcess extends EventEmitter {
  readonly exitCode: Promise<number>;
  private resolveExit!: (code: number) => void;
  exits: number[] = [];

  constructor() {
    super();
    this.exitCode = new Promise((resolve) => (this.resolveExit = resolve));
  }

  exit(code: number): void {
    this.exits.push(code);
    this.resolveExit(code);
  }
}

function recordingLogger() {
  const lines: string[] = [];
  const push = (m: string) => lines.push(m);
  return { lines, logger: { log: push, warn: push, error: push } };
}

describe('installGracefulShutdown', () => {
  it('on SIGTERM marks not-ready, closes the app, flushes, then exits 0', async () => {
    const proc = new FakeProcess();
    const order: string[] = [];
    const { logger } = recordingLogger();
    installGracefulShutdown({
      app: { close: async () => void order.push('close') },
      timeoutMs: 5_000,
      logger,
      onShutdownStart: () => order.push('not-ready'),
      afterClose: async () => void order.push('flush'),
      proc,
    });
    proc.emit('SIGTERM', 'SIGTERM');
    expect(await proc.exitCode).toBe(0);
    expect(order).toEqual(['not-ready', 'close', 'flush']);
    expect(proc.exits).toEqual([0]);
  });

  it('forces exit 1 when a shutdown hook hangs past the timeout', async () => {
    const proc = new FakeProcess();
    const { lines, logger } = recordingLogger();
    installGracefulShutdown({
      app: { close: () => new Promise(() => undefined) },
      timeoutMs: 50,
      logger,
      proc,
    });
    proc.emit('SIGINT', 'SIGINT');
    expect(await proc.exitCode).toBe(1);
    expect(lines).toContain('Shutdown did not finish within 50 ms; forcing exit');
  });

  it('exits 1 when closing fails, and logs why', async () => {
    const proc = new FakeProcess();
    const { lines, logger } = recordingLogger();
    installGracefulShutdown({
      app: { close: async () => Promise.reject(new Error('hook exploded')) },
      timeoutMs: 5_000,
      logger,
      proc,
    });
    proc.emit('SIGTERM', 'SIGTERM');
    expect(await proc.exitCode).toBe(1);
    expect(lines.some((l) => l.includes('hook exploded'))).toBe(true);
  });

  it('exits 1 at once on a second signal during a slow shutdown', async () => {
    const proc = new FakeProcess();
    const { logger } = recordingLogger();
    let finishClose!: () => void;
    installGracefulShutdown({
      app: { close: () => new Promise<void>((resolve) => (finishClose = resolve)) },
      timeoutMs: 5_000,
      logger,
      proc,
    });
    proc.emit('SIGTERM', 'SIGTERM');
    proc.emit('SIGINT', 'SIGINT');
    expect(await proc.exitCode).toBe(1);
    finishClose();
  });

  it('removes its listeners when uninstalled', () => {
    const proc = new FakeProcess();
    const uninstall = installGracefulShutdown({
      app: { close: async () => undefined },
      timeoutMs: 5_000,
      logger: recordingLogger().logger,
      proc,
    });
    expect(proc.listenerCount('SIGTERM')).toBe(1);
    uninstall();
    expect(proc.listenerCount('SIGTERM')).toBe(0);
    expect(proc.listenerCount('SIGINT')).toBe(0);
  });
});
