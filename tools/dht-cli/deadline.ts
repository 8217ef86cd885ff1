import { CliError, interruptedError } from './cli-error';

export interface DeadlineInput {
  /** The whole command's signal (Ctrl+C); aborting it ends the operation as 'interrupted'. */
  readonly signal?: AbortSignal;
  readonly timeoutMs: number;
  /** What is being waited for, for the timeout message ("ping 127.0.0.1:6881"). */
  readonly what: string;
}

/**
 * Runs one network operation under --timeout and Ctrl+C. The operation gets a signal to pass on to the library;
 * the result is raced against that signal too, because not every library call takes one (start() does not), and
 * the CLI must return on time whatever the operation does. Leaves no timer or listener behind.
 */
export async function withDeadline<T>(
  input: DeadlineInput,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (input.signal?.aborted) throw interruptedError();
  const controller = new AbortController();
  let reason: CliError | undefined;
  const abort = (err: CliError) => {
    reason ??= err;
    controller.abort(err);
  };
  const onInterrupt = () => abort(interruptedError());
  input.signal?.addEventListener('abort', onInterrupt, { once: true });
  const timer = setTimeout(
    () =>
      abort(new CliError(`${input.what}: no answer within ${input.timeoutMs} ms`, 'CLI_TIMEOUT', 'timeout')),
    input.timeoutMs,
  );
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(reason);
    controller.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const running = run(controller.signal);
    // Whichever loses the race settles later; its rejection is expected and must not surface as unhandled.
    running.catch(() => undefined);
    aborted.catch(() => undefined);
    return await Promise.race([running, aborted]);
  } catch (err) {
    // The library rejects with its own abort error (RPC_ABORTED, LOOKUP_ABORTED): report why we aborted instead.
    throw reason ?? err;
  } finally {
    clearTimeout(timer);
    input.signal?.removeEventListener('abort', onInterrupt);
    if (onAbort) controller.signal.removeEventListener('abort', onAbort);
  }
}

/** Waits ms, or ends at once with 'interrupted' on Ctrl+C. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(interruptedError());
    const timer = setTimeout(done, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(interruptedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
  });
}
