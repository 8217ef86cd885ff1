import { identityFromPrivateKey, type Identity } from '../../libs/kademlia/src';

/** A node identity from a seeded private key: the same seed sequence gives the same IDs, so simulations repeat. */
export function seededIdentity(random: () => number): Identity {
  const key = new Uint8Array(32);
  for (let i = 0; i < key.length; i++) key[i] = Math.floor(random() * 256);
  return identityFromPrivateKey(key);
}
