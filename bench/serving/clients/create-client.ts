import { kadfleetSessions, type ServerAddress, type ServingImplementation } from '../implementations';
import { BittorrentClient } from './bittorrent-client';
import { DhtRpcClient } from './dht-rpc-client';
import { EchoClient } from './echo-client';
import { KadfleetClient } from './kadfleet-client';
import type { ServingClient } from './serving-client';

export function createServingClient(
  implementation: ServingImplementation,
  server: ServerAddress,
): ServingClient {
  const sessions = kadfleetSessions(implementation);
  if (sessions) return new KadfleetClient(server, sessions);
  if (implementation === 'dht-rpc') return new DhtRpcClient(server);
  if (implementation === 'bittorrent-dht') return new BittorrentClient(server);
  return new EchoClient(server);
}
