import { childArgs, emit, failChild, onCommand } from '../child-main';
import type { ServingImplementation } from './implementations';
import { startServer, type KadfleetServerOptions } from './servers/start-server';

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
      emit({
        type: 'cpu',
        userMicros: usage.user,
        systemMicros: usage.system,
        tableSize: server.tableSize(),
        rssBytes: process.memoryUsage.rss(),
      });
    } else if (message.type === 'exit') {
      await server.close();
      process.exit(0);
    }
  });
  emit({ type: 'ready', address: server.address });
}

main().catch(failChild);
