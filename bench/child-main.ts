import { createInterface } from 'node:readline';
import type { JsonMessage } from './child-link';

/** The child's side of ChildLink: parsed argument, JSON lines out, commands in, errors reported then exit 1. */
export function childArgs<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

export function emit(message: JsonMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

export function onCommand(handler: (message: JsonMessage) => void | Promise<void>): void {
  createInterface({ input: process.stdin }).on('line', (line) => {
    let message: JsonMessage;
    try {
      message = JSON.parse(line) as JsonMessage;
    } catch {
      return;
    }
    Promise.resolve(handler(message)).catch(failChild);
  });
  // The parent went away: nobody is left to read our figures.
  process.stdin.on('end', () => process.exit(0));
}

export function failChild(err: unknown): never {
  emit({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
}
