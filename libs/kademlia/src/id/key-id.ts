import { sha1 } from '@noble/hashes/sha1';
import type { NodeId } from './node-id';

/** The DHT key of an application key: SHA-1 of its bytes (strings are taken as UTF-8). */
export function keyToId(key: string | Uint8Array): NodeId {
  return sha1(typeof key === 'string' ? new TextEncoder().encode(key) : key);
}

/** NodeId of a static public key: SHA-1(public key). Self-certifying, so it cannot be chosen freely. */
export function nodeIdFromPublicKey(publicKey: Uint8Array): NodeId {
  return sha1(publicKey);
}
