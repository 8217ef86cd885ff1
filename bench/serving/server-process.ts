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
      emit({ type: 'filled', ...fillBuffer(server, Number(message.contacts)) });
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
