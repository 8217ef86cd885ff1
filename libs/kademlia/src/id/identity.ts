import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { nodeIdFromPublicKey } from './key-id';
import type { NodeId } from './node-id';
import { KademliaError } from '../errors';

/** A node's static X25519 key pair; its NodeId is SHA-1 of the 32-byte public key. */
export interface Identity {
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
  readonly nodeId: NodeId;
}

const IDENTITY_FILE_VERSION = 1;

/** A fresh identity. Built from random bytes, not generateKeyPairSync: see crypto/x25519.ts (a Node 20 deadlock). */
export function generateIdentity(): Identity {
  return identityFromPrivateKey(new Uint8Array(randomBytes(32)));
}

/** Rebuilds an identity from the raw 32-byte private scalar (e.g. read from a Kubernetes Secret). */
export function identityFromPrivateKey(rawPrivateKey: Uint8Array): Identity {
  if (rawPrivateKey.length !== 32) {
    throw new KademliaError('identity private key must be 32 bytes', 'IDENTITY_INVALID');
  }
  const privateKey = createPrivateKey({
    // Node insists on a string x in a private JWK but derives the public key from d itself.
    key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(rawPrivateKey).toString('base64url'), x: '' },
    format: 'jwk',
  });
  return identityFromKeys(privateKey, createPublicKey(privateKey));
}

export function exportPrivateKey(identity: Identity): Uint8Array {
  const jwk = identity.privateKey.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.d as string, 'base64url'));
}

function identityFromKeys(privateKey: KeyObject, publicKey: KeyObject): Identity {
  const jwk = publicKey.export({ format: 'jwk' });
  const raw = new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
  return { publicKey: raw, privateKey, nodeId: nodeIdFromPublicKey(raw) };
}

/** Writes the identity as JSON readable only by its owner; the write is atomic (temp file + rename). */
export async function saveIdentity(identity: Identity, path: string): Promise<void> {
  const body = JSON.stringify({
    version: IDENTITY_FILE_VERSION,
    type: 'x25519',
    privateKey: Buffer.from(exportPrivateKey(identity)).toString('base64'),
    publicKey: Buffer.from(identity.publicKey).toString('base64'),
  });
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, body + '\n', { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Reads an identity file; a malformed or mismatched file is an IDENTITY_INVALID error, never a silent new key. */
export async function loadIdentity(path: string): Promise<Identity> {
  const text = await readFile(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KademliaError(`identity file ${path} is not JSON`, 'IDENTITY_INVALID');
  }
  const unknownFormat = () =>
    new KademliaError(`identity file ${path} has an unknown format`, 'IDENTITY_INVALID');
  // JSON.parse also returns null, numbers, strings and arrays; only an object can be an identity file.
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw unknownFormat();
  const file = parsed as { version?: unknown; type?: unknown; privateKey?: unknown; publicKey?: unknown };
  if (file.version !== IDENTITY_FILE_VERSION || file.type !== 'x25519') throw unknownFormat();
  const privateKey = strictBase64(file.privateKey);
  if (!privateKey) throw unknownFormat();
  const publicKey = file.publicKey === undefined ? undefined : strictBase64(file.publicKey);
  if (publicKey === null) throw unknownFormat();
  const identity = identityFromPrivateKey(privateKey);
  if (publicKey && Buffer.compare(publicKey, identity.publicKey) !== 0) {
    throw new KademliaError(
      `identity file ${path}: public key does not match private key`,
      'IDENTITY_INVALID',
    );
  }
  return identity;
}

/**
 * The bytes of a base64 string, or null unless it is exactly what saveIdentity writes. Node's decoder skips
 * characters outside the alphabet, so '*' + key would otherwise load as key: damage must not go unnoticed.
 */
function strictBase64(text: unknown): Uint8Array | null {
  if (typeof text !== 'string') return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? new Uint8Array(bytes) : null;
}

/** Loads the identity at path, or generates one and saves it there (first start of a node). */
export async function loadOrCreateIdentity(path: string): Promise<Identity> {
  try {
    return await loadIdentity(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const identity = generateIdentity();
    await saveIdentity(identity, path);
    return identity;
  }
}
