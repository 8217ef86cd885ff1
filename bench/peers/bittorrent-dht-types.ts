import { importEsm } from '../esm-import';

/**
 * The parts of bittorrent-dht@11 (ESM only, no bundled types) the benchmark uses. `_rpc` is k-rpc, the layer
 * bittorrent-dht runs its own lookups on; the benchmark calls its `closest` directly because bittorrent-dht's
 * public lookup() is get_peers, and wraps its socket's `query` to count requests.
 */
export interface KrpcMessage {
  r?: { id?: Uint8Array; nodes?: Uint8Array };
}
export interface KrpcSocket {
  query: (...args: unknown[]) => unknown;
}
export interface BittorrentDht {
  readonly nodeId: Buffer;
  readonly nodes: { count(): number };
  readonly _rpc: {
    readonly id: Buffer;
    readonly k: number;
    readonly socket: KrpcSocket;
    closest(
      target: Buffer,
      message: { q: string; a: Record<string, Buffer> },
      visit: (message: KrpcMessage, peer: { host?: string; address?: string; port: number }) => unknown,
      done: (err: Error | null) => void,
    ): void;
  };
  listen(port: number, host: string, onListening?: () => void): void;
  address(): { address: string; port: number };
  addNode(node: { host: string; port: number; id?: Buffer }): void;
  once(event: 'ready' | 'listening', listener: () => void): void;
  on(event: 'error' | 'warning', listener: (err: Error) => void): void;
  destroy(callback?: () => void): void;
}

export interface BittorrentDhtOptions {
  bootstrap?: string[] | false;
  nodeId?: Buffer;
}

type BittorrentDhtClass = new (options?: BittorrentDhtOptions) => BittorrentDht;

export async function loadBittorrentDht(): Promise<BittorrentDhtClass> {
  const module = (await importEsm('bittorrent-dht')) as { default: BittorrentDhtClass };
  return module.default;
}

export function listen(node: BittorrentDht, host: string): Promise<void> {
  return new Promise((resolve) => node.listen(0, host, () => resolve()));
}

export function destroy(node: BittorrentDht): Promise<void> {
  return new Promise((resolve) => node.destroy(() => resolve()));
}
