import type { NodeId } from '../id/node-id';
import type { Endpoint } from '../transport/transport';

/**
 * A peer as the network describes it: its static public key (the ID is derived from it, never sent)
 * and where it listens. This is what NODES replies carry and what findNode() returns.
 */
export interface Contact extends Endpoint {
  readonly id: NodeId;
  readonly publicKey: Uint8Array;
  /**
   * `host` as the 4 or 16 bytes it travels as, when whoever built the contact already had them (the bootstrap
   * buffer stores addresses as bytes): encoding a NODES reply then skips parsing the host text back.
   */
  readonly addressBytes?: Uint8Array;
}
