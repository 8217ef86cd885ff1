import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Registers a child process a test harness started (a private redis-server, a service under test) so that a
 * crashed or interrupted test run does not leave it behind: whatever is still registered at exit is SIGKILLed.
 * Returns the function that unregisters it once it has exited.
 */
export function reapOnExit(child: ChildProcess): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
  running.add(child);
  return () => running.delete(child);
}
