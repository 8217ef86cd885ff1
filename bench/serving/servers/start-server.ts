import { createSocket } from 'node:dgram';
import DHT from 'dht-rpc';
import { KademliaDHT, type KademliaOptions } from '../../../libs/kademlia/src';
import { destroy, listen, loadBittorrentDht } from '../../peers/bittorrent-dht-types';
import { freeUdpPort } from '../../peers/dht-rpc-network';
import { kadfleetSessions, type ServerAddress, type ServingImplementation } from '../implementations';
import { bootstrapRoleOf, fillBootstrapBuffer, type BufferFill } from './buffer-fill';

/** A running server: where it listens, how many contacts its routing table holds, how to stop it. */
export interface RunningServer {
  address: ServerAddress;
  tableSize(): number;
  /** A kadfleet node started with `bootstrapRole` only: its buffer, filled with verified fake contacts. */
  bootstrapBuffer?: {
    fill(count: number): BufferFill;
    stats(): { verified: number; size: number; pingsSent: number };
  };
  /** kadfleet only: packets dropped and requests refused so far (a shed request is silence, i.e. loss). */
  refusals?(): { dropped: number; refused: Record<string, number> };
  /** kadfleet only: the load shedder's level (0 = serving everything). */
  shedLevel?(): number;
  close(): Promise<void>;
}

/** Options a scenario sets on a kadfleet server on top of the defaults (JSON: they cross a process boundary). */
export type KadfleetServerOptions = Pick<
  KademliaOptions,
  'cookieMode' | 'rateLimit' | 'loadShedding' | 'bootstrapRole'
>;

export async function startServer(
  implementation: ServingImplementation,
  host: string,
  nodeOptions: KadfleetServerOptions = {},
): Promise<RunningServer> {
  const sessions = kadfleetSessions(implementation);
  if (sessions) return startKadfleet(host, sessions, nodeOptions);
  if (implementation === 'dht-rpc') return startDhtRpc(host);
  if (implementation === 'bittorrent-dht') return startBittorrentDht(host);
  return startEcho(host);
}

/**
 * One load generator stands in for thousands of peers, so the per-address limits (20 packets/s by default) would
 * measure the rate limiter's refusals, not the server. The limits are raised out of reach but the limiter stays
 * on: its per-packet check is part of what every answer costs.
 */
const UNREACHABLE = { ratePerSecond: 1e9, burst: 1e9 };
const BENCH_RATE_LIMIT = { perIp: UNREACHABLE, perGroup: UNREACHABLE };

/** A kadfleet node with default options (apart from the session layer under test); helpers fill its table. */
async function startKadfleet(
  host: string,
  sessions: 'encrypted' | 'plaintext',
  nodeOptions: KadfleetServerOptions,
): Promise<RunningServer> {
  const node = new KademliaDHT({
    rateLimit: BENCH_RATE_LIMIT,
    ...nodeOptions,
    bindAddress: host,
    bindPort: 0,
    sessions,
  });
  await node.start([]);
  const role = nodeOptions.bootstrapRole ? bootstrapRoleOf(node) : undefined;
  return {
    address: { ...node.address(), host, publicKeyHex: Buffer.from(node.publicKey).toString('hex') },
    tableSize: () => node.stats().tableSize,
    refusals: () => {
      const stats = node.stats();
      return { dropped: stats.droppedTotal, refused: stats.refused };
    },
    shedLevel: () => node.stats().guard.loadShedding?.level ?? 0,
    bootstrapBuffer: role && {
      fill: (count) => fillBootstrapBuffer(role, count),
      stats: () => {
        const { verified, size, pingsSent } = role.stats();
        return { verified, size, pingsSent };
      },
    },
    close: () => node.stop(),
  };
}

/** dht-rpc's bootstrapper: persistent and not firewalled from the start, as a public server is. */
async function startDhtRpc(host: string): Promise<RunningServer> {
  const node = DHT.bootstrapper(await freeUdpPort(host), host, { host });
  await node.fullyBootstrapped();
  return {
    address: { host, port: node.address().port },
    tableSize: () => node.toArray().length,
    close: () => node.destroy(),
  };
}

async function startBittorrentDht(host: string): Promise<RunningServer> {
  const Dht = await loadBittorrentDht();
  const node = new Dht({ bootstrap: false });
  node.on('error', () => undefined);
  node.on('warning', () => undefined);
  await listen(node, host);
  return {
    address: { host, port: node.address().port },
    tableSize: () => node.nodes.count(),
    close: () => destroy(node),
  };
}

/** The machine's ceiling: a UDP socket that sends every datagram straight back, doing nothing else. */
async function startEcho(host: string): Promise<RunningServer> {
  const socket = createSocket('udp4');
  socket.on('message', (message, remote) => socket.send(message, remote.port, remote.address));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.bind(0, host, () => resolve()));
  return {
    address: { host, port: socket.address().port },
    tableSize: () => 0,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
