/**
 * Errors the CLI reports to the operator. `kind` decides the exit code, so scripts can tell "you typed it wrong"
 * (2) from "the node did not answer" (1) from "you pressed Ctrl+C" (130) without parsing messages.
 */
export type CliErrorKind = 'usage' | 'unreachable' | 'timeout' | 'interrupted';

export type CliErrorCode =
  | 'CLI_USAGE'
  | 'CLI_UNREACHABLE'
  | 'CLI_RESOLVE_FAILED'
  | 'CLI_TIMEOUT'
  | 'CLI_HTTP_FAILED'
  | 'CLI_INTERRUPTED';

export const EXIT_CODES = {
  ok: 0,
  /** The node or network did not answer, a value was not found, or a probe failed. */
  failed: 1,
  /** Bad input: unknown option, malformed host:port, id or URL. Nothing was sent. */
  usage: 2,
  /** 128 + SIGINT, the shell convention for "ended by Ctrl+C". */
  interrupted: 130,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly code: CliErrorCode,
    readonly kind: CliErrorKind,
  ) {
    super(message);
    this.name = 'CliError';
  }

  get exitCode(): number {
    if (this.kind === 'usage') return EXIT_CODES.usage;
    if (this.kind === 'interrupted') return EXIT_CODES.interrupted;
    return EXIT_CODES.failed;
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, 'CLI_USAGE', 'usage');
}

export function interruptedError(): CliError {
  return new CliError('interrupted', 'CLI_INTERRUPTED', 'interrupted');
}

export function isCliError(err: unknown, kind?: CliErrorKind): err is CliError {
  return err instanceof CliError && (kind === undefined || err.kind === kind);
}
