/**
 * The load generator's side of one protocol: it sends FIND_NODE (or an echo) with a request ID it chooses and
 * reports each complete answer with the number of contacts it carried. Clients encode and parse the bytes
 * themselves, as lean as the protocol allows, so the generator spends its CPU on sending, not on bookkeeping.
 */
export interface ServingClient {
  /** Request IDs are taken modulo this (a 16-bit transaction ID for dht-rpc and bittorrent-dht). */
  readonly idSpace: number;
  /** Bytes in a FIND_NODE target. */
  readonly targetBytes: number;
  listen(host: string): Promise<void>;
  send(id: number, target: Uint8Array): void;
  onAnswer(handler: (id: number, contacts: number) => void): void;
  close(): Promise<void>;
}
