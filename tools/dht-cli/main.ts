import { EXIT_CODES } from './cli-error';
import { runCli } from './run-cli';

/**
 * The `dht` binary (`npm run dht -- <command> ...`): wires runCli to the process. The first Ctrl+C aborts the
 * running command (it closes its socket and reports "interrupted"); a second one exits at once.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(EXIT_CODES.interrupted);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const code = await runCli(argv, {
      stdout: process.stdout,
      stderr: process.stderr,
      signal: controller.signal,
    });
    process.exitCode = code;
    return code;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

if (require.main === module) void main();
