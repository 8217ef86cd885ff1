import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { JsonMessage } from '../child-link';

/**
 * Runs one compiled benchmark worker to completion in a fresh Node process and returns its `result` message.
 * Unlike ChildLink (a conversation with a long-lived child), the memory and scale workers need Node flags of
 * their own (--expose-gc, a larger heap) and say one thing before they exit. The child is killed at the
 * deadline and when this process exits.
 */
export function runWorker(input: {
  script: string;
  args: unknown;
  nodeFlags: readonly string[];
  deadlineMs: number;
  name: string;
  log: (line: string) => void;
}): Promise<JsonMessage> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...input.nodeFlags, input.script, JSON.stringify(input.args)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killOnExit = () => child.kill('SIGKILL');
    process.on('exit', killOnExit);
    let result: JsonMessage | undefined;
    let failure: string | undefined;
    const deadline = setTimeout(() => {
      failure = `${input.name} passed its ${input.deadlineMs} ms deadline`;
      child.kill('SIGKILL');
    }, input.deadlineMs);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = parseMessage(line);
      if (message?.type === 'result') result = message;
      else if (message?.type === 'error') failure = `${input.name}: ${String(message.message)}`;
      else if (message?.type === 'progress') input.log(`  [${input.name}] ${String(message.line)}`);
      else input.log(`  [${input.name}] ${line}`);
    });
    createInterface({ input: child.stderr }).on('line', (line) => input.log(`  [${input.name}] ${line}`));
    child.on('error', (err) => {
      failure ??= err.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      process.off('exit', killOnExit);
      if (result && !failure) resolve(result);
      else
        reject(
          new Error(failure ?? `${input.name} exited (code ${code}, signal ${signal}) without a result`),
        );
    });
  });
}

function parseMessage(line: string): JsonMessage | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    if (typeof value === 'object' && value !== null && typeof (value as JsonMessage).type === 'string') {
      return value as JsonMessage;
    }
  } catch {
    // Not JSON: a log line.
  }
  return undefined;
}
