import { createPrivateKey, createPublicKey, diffieHellman, randomBytes, type KeyObject } from 'node:crypto';

export const X25519_KEY_BYTES = 32;

/** A key pair with the public half raw (it travels in packets) and the private half as a KeyObject. */
export interface X25519KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

// JWK, not DER: on Node 20 with OpenSSL 3, importing a raw key through JWK costs about 4 µs and through
// SPKI DER about 60 µs, which would be most of a handshake's cost.

/** A KeyObject for a raw 32-byte public key; throws on a wrong length (callers check lengths first). */
export function x25519PublicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: {
      kty: 'OKP',
      crv: 'X25519',
      x: Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('base64url'),
    },
    format: 'jwk',
  });
}

export function rawX25519PublicKey(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
}

/**
 * A fresh key pair from 32 random bytes (any 32 bytes are a valid X25519 scalar; the function clamps it).
 * Not generateKeyPairSync: on Node 20.20 exporting a key it generated as JWK can deadlock the main thread when a
 * garbage collection runs during the export (seen within ~65,000 keys; this path ran 750,000 without a hang).
 */
export function generateX25519KeyPair(): X25519KeyPair {
  return x25519KeyPairFromPrivate(randomBytes(X25519_KEY_BYTES));
}

/** A key pair from a raw private scalar; golden vectors use fixed ephemeral keys built this way. */
export function x25519KeyPairFromPrivate(raw: Uint8Array): X25519KeyPair {
  const privateKey = createPrivateKey({
    // Node insists on a string x in a private JWK but derives the public key from d itself.
    key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(raw).toString('base64url'), x: '' },
    format: 'jwk',
  });
  return { publicKey: rawX25519PublicKey(createPublicKey(privateKey)), privateKey };
}

/**
 * X25519(private, public). Returns undefined instead of throwing when the peer's point is of low order
 * (OpenSSL refuses an all-zero shared secret), so a hostile key is one more dropped handshake.
 */
export function x25519(privateKey: KeyObject, publicKey: Uint8Array): Buffer | undefined {
  if (publicKey.length !== X25519_KEY_BYTES) return undefined;
  try {
    return diffieHellman({ privateKey, publicKey: x25519PublicKeyObject(publicKey) });
  } catch {
    return undefined;
  }
}
