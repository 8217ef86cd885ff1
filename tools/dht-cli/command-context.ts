import type { OutputStream } from './output';

/** What a command may touch: its output streams and the Ctrl+C signal. Nothing global, so tests run it in-process. */
export interface CommandContext {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Aborted on SIGINT: every network operation and pause of the command ends at once. */
  readonly signal?: AbortSignal;
}
