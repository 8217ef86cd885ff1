import { join } from 'node:path';
import type { BootstrapEntry, KademliaOptions, MetricsSink } from '../../../../libs/kademlia/src';
import type { BootstrapConfig } from '../bootstrap-service';

/** Where this node's files live: the identity (unless DHT_KEY_FILE names one) and the snapshots. */
export function dataPaths(config: BootstrapConfig): { keyFile: string; snapshot: string } {
  return {
    keyFile: config.DHT_KEY_FILE ?? join(config.DHT_DATA_DIR, 'identity.key'),
    snapshot: join(config.DHT_DATA_DIR, 'routing-table.snapshot'),
  };
}

/** The library options of a bootstrap node, from the service's validated configuration. */
export function bootstrapNodeOptions(config: BootstrapConfig, metrics: MetricsSink): KademliaOptions {
  return {
    bindAddress: config.DHT_BIND_ADDRESS,
    bindPort: config.DHT_PORT,
    snapshotPath: dataPaths(config).snapshot,
    metrics,
    publicMode: config.DHT_PUBLIC_MODE,
    trustedNetworks: splitList(config.DHT_TRUSTED_NETWORKS),
    idPuzzleDifficulty: config.DHT_ID_PUZZLE_DIFFICULTY,
    bootstrapRole: { capacity: config.DHT_BUFFER_CAPACITY },
    // The service's @nestjs/schedule intervals drive refresh, republish, snapshots and buffer verification.
    maintenance: 'external',
  };
}

/** DHT_BOOTSTRAP as library entries ('<key>@host:port' when pinned). */
export function bootstrapEntries(config: BootstrapConfig): BootstrapEntry[] {
  return (config.DHT_BOOTSTRAP ?? []).map((e) => {
    const host = e.host.includes(':') ? `[${e.host}]` : e.host;
    return `${e.key ? `${e.key}@` : ''}${host}:${e.port}`;
  });
}

/** host:port clients use: the advertised one, else the bind address (127.0.0.1 when binding everything). */
export function advertisedAddress(config: BootstrapConfig, boundPort: number): string {
  const bind = config.DHT_BIND_ADDRESS;
  const fallback = bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '::1' : bind;
  const host = config.DHT_ADVERTISED_HOST ?? fallback;
  const port = config.DHT_ADVERTISED_PORT ?? boundPort;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Where the readiness self-ping is sent: the node's own socket, over loopback when it binds everything. */
export function selfPingTarget(config: BootstrapConfig, boundPort: number): string {
  const bind = config.DHT_BIND_ADDRESS;
  if (bind === '0.0.0.0') return `127.0.0.1:${boundPort}`;
  if (bind === '::') return `[::1]:${boundPort}`;
  return `${bind.includes(':') ? `[${bind}]` : bind}:${boundPort}`;
}

function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
