/** The servers the serving benchmark loads, in the order they run, with how each row is labelled. */
export const SERVING_IMPLEMENTATIONS = [
  'kadfleet-encrypted',
  'kadfleet-plaintext',
  'dht-rpc',
  'bittorrent-dht',
  'echo',
] as const;
export type ServingImplementation = (typeof SERVING_IMPLEMENTATIONS)[number];

export const SERVING_LABELS: Record<ServingImplementation, string> = {
  'kadfleet-encrypted': 'kadfleet (encrypted)',
  'kadfleet-plaintext': 'kadfleet (plaintext)',
  'dht-rpc': 'dht-rpc 6.27.0 (cleartext)',
  'bittorrent-dht': 'bittorrent-dht 11.0.12 (cleartext)',
  echo: 'node:dgram echo (ceiling)',
};

export function kadfleetSessions(
  implementation: ServingImplementation,
): 'encrypted' | 'plaintext' | undefined {
  if (implementation === 'kadfleet-encrypted') return 'encrypted';
  if (implementation === 'kadfleet-plaintext') return 'plaintext';
  return undefined;
}

/** Where a server listens, and what a client must know to reach it (kadfleet clients need its static key). */
export interface ServerAddress {
  host: string;
  port: number;
  publicKeyHex?: string;
}
