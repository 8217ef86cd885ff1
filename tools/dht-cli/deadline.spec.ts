import { isCliError } from './cli-error';
import { pause, withDeadline } from './deadline';

describe('withDeadline', () => {
  it('resolves with the operation result', async () => {
    await expect(withDeadline({ timeoutMs: 1_000, what: 'x' }, async () => 42)).resolves.toBe(42);
  });

  it('ends an operation that never settles with CLI_TIMEOUT and aborts its signal', async () => {
    let seen: AbortSignal | undefined;
    const err = await withDeadline({ timeoutMs: 5, what: 'ping 10.0.0.1:1' }, (signal) => {
      seen = signal;
      return new Promise<never>(() => undefined);
    }).catch((e: unknown) => e);
    expect(isCliError(err, 'timeout') && err.message).toBe('ping 10.0.0.1:1: no answer within 5 ms');
    expect(seen?.aborted).toBe(true);
  });

  it('reports Ctrl+C as interrupted, also when the operation rejects with its own abort error', async () => {
    const controller = new AbortController();
    const running = withDeadline(
      { signal: controller.signal, timeoutMs: 60_000, what: 'x' },
      (signal) =>
        new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('RPC_ABORTED'))),
        ),
    );
    controller.abort();
    const err = await running.catch((e: unknown) => e);
    expect(isCliError(err, 'interrupted')).toBe(true);
  });

  it('passes an operation error through unchanged', async () => {
    const boom = new Error('boom');
    await expect(withDeadline({ timeoutMs: 1_000, what: 'x' }, () => Promise.reject(boom))).rejects.toBe(
      boom,
    );
  });

  it('refuses to start once interrupted', async () => {
    const err = await withDeadline(
      { signal: AbortSignal.abort(), timeoutMs: 1_000, what: 'x' },
      async () => 1,
    ).catch((e: unknown) => e);
    expect(isCliError(err, 'interrupted')).toBe(true);
  });
});

describe('pause', () => {
  it('ends early with interrupted on Ctrl+C', async () => {
    const controller = new AbortController();
    const waiting = pause(60_000, controller.signal).catch((e: unknown) => e);
    controller.abort();
    expect(isCliError(await waiting, 'interrupted')).toBe(true);
  });
});
