import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { KademliaError } from '../errors';

/** Raw Ed25519 sizes (RFC 8032): 32-byte seeds and public keys, 64-byte signatures. */
export const ED25519_SEED_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/**
 * The Ed25519 key pair a publisher signs mutable records with. It is the application's key, not the
 * node's X25519 identity: one publisher may write through many nodes, and a node may carry many publishers.
 */
export interface SigningKeyPair {
  /** Raw 32-byte public key (RFC 8032 encoding); records are stored under SHA-1(publicKey ‖ salt). */
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

/** A fresh key pair from a random seed; not generateKeyPairSync, which can deadlock on Node 20 (crypto/x25519.ts). */
export function generateSigningKeyPair(): SigningKeyPair {
  return signingKeyPairFromSeed(new Uint8Array(randomBytes(ED25519_SEED_BYTES)));
}

/** Rebuilds a key pair from its 32-byte seed (RFC 8032's "private key"), e.g. read from a secret store. */
export function signingKeyPairFromSeed(seed: Uint8Array): SigningKeyPair {
  if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SEED_BYTES) {
    throw new KademliaError('an Ed25519 seed must be 32 bytes', 'RECORD_INVALID');
  }
  const privateKey = createPrivateKey({
    // Node wants a string x in a private JWK but derives the public key from d itself.
    key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(seed).toString('base64url'), x: '' },
    format: 'jwk',
  });
  return signingKeyPairFrom(privateKey);
}

/** The 32-byte seed of an Ed25519 private key: all a publisher must keep to sign again later. */
export function exportSigningSeed(privateKey: KeyObject): Uint8Array {
  requireEd25519PrivateKey(privateKey);
  const jwk = privateKey.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.d as string, 'base64url'));
}

export function signingKeyPairFrom(privateKey: KeyObject): SigningKeyPair {
  requireEd25519PrivateKey(privateKey);
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return { publicKey: new Uint8Array(Buffer.from(jwk.x as string, 'base64url')), privateKey };
}

export function requireEd25519PrivateKey(privateKey: KeyObject): void {
  if (privateKey?.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new KademliaError('a record must be signed with an Ed25519 private key', 'RECORD_INVALID');
  }
}

/**
 * Encodings of the eight small-order points (orders 1, 2, 4 and 8), including the non-canonical y = p
 * and y = p + 1, compared without the sign bit (byte 31, bit 7) as libsodium does. OpenSSL accepts them
 * as public keys, and a signature R = identity, S = 0 then verifies for many messages (for the identity,
 * every message): anyone could write a record under such a key. The spec checks each entry is exploitable.
 */
const SMALL_ORDER_KEYS = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((hex) => Buffer.from(hex, 'hex'));

/**
 * True for a public key no honest signer has: a small-order point, or a non-canonical encoding (y ≥ p,
 * which would give one signer a second record key for the same point).
 */
export function isUnsafePublicKey(publicKey: Uint8Array): boolean {
  const masked = Buffer.from(publicKey);
  masked[31] &= 0x7f;
  if (SMALL_ORDER_KEYS.some((bad) => bad.equals(masked))) return true;
  // y ≥ p = 2^255 - 19: little-endian, so bytes 1..30 are 0xff, byte 31 is 0x7f and byte 0 is ≥ 0xed.
  return masked[31] === 0x7f && masked.subarray(1, 31).every((b) => b === 0xff) && masked[0] >= 0xed;
}
