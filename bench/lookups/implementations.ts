import { startBittorrentDhtNetwork } from '../peers/bittorrent-dht-network';
import { startDhtRpcNetwork } from '../peers/dht-rpc-network';
import { startKadfleetNetwork } from '../peers/kadfleet-network';
import type { LookupNetwork, NetworkBuildInput } from '../peers/lookup-network';

export const LOOKUP_IMPLEMENTATIONS = ['kadfleet', 'dht-rpc', 'bittorrent-dht'] as const;
export type LookupImplementation = (typeof LOOKUP_IMPLEMENTATIONS)[number];

export const NETWORK_BUILDERS: Record<
  LookupImplementation,
  (input: NetworkBuildInput) => Promise<LookupNetwork>
> = {
  kadfleet: startKadfleetNetwork,
  'dht-rpc': startDhtRpcNetwork,
  'bittorrent-dht': startBittorrentDhtNetwork,
};

/** How each row is labelled: kadfleet runs with its defaults, which encrypt every session. */
export const LOOKUP_LABELS: Record<LookupImplementation, string> = {
  kadfleet: 'kadfleet (encrypted, defaults)',
  'dht-rpc': 'dht-rpc 6.27.0',
  'bittorrent-dht': 'bittorrent-dht 11.0.12',
};
