import { parseCommandLine, type CliArgs } from './args';
import { EXIT_CODES, interruptedError, isCliError, type CliError } from './cli-error';
import type { CommandContext } from './command-context';
import { runInfo } from './commands/info';
import { runLookup } from './commands/lookup';
import { runPing } from './commands/ping';
import { helpText } from './help';
import { writeJson } from './output';

export type CliIo = CommandContext;

/**
 * The whole CLI as a function: parses argv (without `node` and the script), runs the command, writes to the
 * injected streams and resolves with the exit code. Never throws and never touches `process`, so tests and
 * other tools can call it in-process.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  try {
    const args = parseCommandLine(argv);
    return await runCommand(args, io);
  } catch (err) {
    const failure = toCliFailure(err, io.signal);
    if (json) writeJson(io.stdout, { error: { code: failure.code, message: failure.message } });
    io.stderr.write(`dht: ${failure.message}\n`);
    if (failure.kind === 'usage') io.stderr.write(usageHint(argv));
    return failure.exitCode;
  }
}

function runCommand(args: CliArgs, io: CliIo): Promise<number> {
  switch (args.command) {
    case 'help':
      io.stdout.write(helpText(args.topic));
      return Promise.resolve(EXIT_CODES.ok);
    case 'ping':
      return runPing(args, io);
    case 'lookup':
      return runLookup(args, io);
    case 'info':
      return runInfo(args, io);
  }
}

function toCliFailure(err: unknown, signal: AbortSignal | undefined): CliError | UnexpectedFailure {
  if (isCliError(err)) return err;
  // Ctrl+C during an operation the library ended first (with its own abort error) is still an interruption.
  if (signal?.aborted) return interruptedError();
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return {
    kind: 'failed',
    code: typeof code === 'string' ? code : 'CLI_UNEXPECTED',
    message,
    exitCode: EXIT_CODES.failed,
  };
}

interface UnexpectedFailure {
  readonly kind: 'failed';
  readonly code: string;
  readonly message: string;
  readonly exitCode: number;
}

function usageHint(argv: readonly string[]): string {
  const command = ['ping', 'lookup', 'info'].includes(argv[0] ?? '') ? `${argv[0]} ` : '';
  return `Run 'dht ${command}--help' for usage.\n`;
}
