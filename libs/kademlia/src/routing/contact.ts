import type { NodeId } from '../id/node-id';
import type { Endpoint } from '../transport/transport';

/**
 * A peer as the network describes it: its static public key (the ID is derived from it, never sent)
 * and where it listens. This is what NODES replies carry and what findNode() returns.
 */
export interface Contact extends Endpoint {
  readonly id: NodeId;
  readonly publicKey: Uint8Array;
}
