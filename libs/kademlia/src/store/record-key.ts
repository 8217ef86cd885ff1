import type { NodeId } from '../id/node-id';

/**
 * A record key as a Map key. latin1 maps each byte to one UTF-16 unit: cheaper to build and hash than
 * hex, and distinct keys stay distinct.
 */
export function recordKeyString(key: NodeId): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}
