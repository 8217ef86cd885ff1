import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { childArgs, emit, failChild, onCommand } from '../child-main';
import type { ServingImplementation } from './implementations';
import { startServer, type KadfleetServerOptions, type RunningServer } from './servers/start-server';

/**
 * Child process: one server and nothing else, so process.cpuUsage() is the server's own cost (its event loop,
 * GC and, for dht-rpc, its native UDP library) and nothing of the load generator's.
 */
async function main(): Promise<void> {
  const args = childArgs<{
    implementation: ServingImplementation;
    host: string;
    nodeOptions?: KadfleetServerOptions;
  }>();
  const server = await startServer(args.implementation, args.host, args.nodeOptions);
  onCommand(async (message) => {
    if (message.type === 'cpu') {
      const usage = process.cpuUsage();
      const memory = process.memoryUsage();
      emit({
        type: 'cpu',
        userMicros: usage.user,
        systemMicros: usage.system,
        tableSize: server.tableSize(),
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        bufferPingsSent: server.bootstrapBuffer?.stats().pingsSent,
        refusals: server.refusals?.(),
      });
    } else if (message.type === 'fill') {
      const filled = fillBuffer(server, Number(message.contacts));
      emit({ type: 'filled', ...filled, settleMs: await settle(server) });
    } else if (message.type === 'exit') {
      await server.close();
      process.exit(0);
    }
  });
  emit({ type: 'ready', address: server.address });
}

/**
 * Fills the bootstrap buffer (sent after the helpers joined, so their join lookups never meet the fake
 * contacts) and reads the process's memory before and after, each time after a full garbage collection so the
 * fill's temporary arrays are not counted.
 */
function fillBuffer(server: RunningServer, contacts: number): Record<string, unknown> {
  const buffer = server.bootstrapBuffer;
  if (!buffer) throw new Error('fill: this server has no bootstrap buffer');
  const before = collectedMemory();
  const fill = buffer.fill(contacts);
  const after = collectedMemory();
  return { ...fill, ...buffer.stats(), before, after };
}

/** Longest wait for the load shedder to calm down after the fill; past it the window starts anyway. */
const SETTLE_LIMIT_MS = 40_000;
/** The shedder samples load once a second (DEFAULTS.loadSampleMs): the fill's lag shows after the next sample. */
const FIRST_SAMPLE_MS = 1_500;

/**
 * The fill blocks the event loop for seconds, which the load shedder reads as overload (mean event-loop lag)
 * and leaves one level per 5 s cool-down: the window starts once it is back at level 0, or the run would
 * measure the shedding the fill caused. Returns the wait.
 */
async function settle(server: RunningServer): Promise<number> {
  const startedAt = performance.now();
  await new Promise((resolve) => setTimeout(resolve, FIRST_SAMPLE_MS));
  while ((server.shedLevel?.() ?? 0) > 0 && performance.now() - startedAt < SETTLE_LIMIT_MS) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return Math.round(performance.now() - startedAt);
}

let gc: (() => void) | undefined;

/** process.memoryUsage() after a full collection (the child is not started with --expose-gc, so expose it). */
function collectedMemory(): NodeJS.MemoryUsage {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  gc();
  return process.memoryUsage();
}

main().catch(failChild);
