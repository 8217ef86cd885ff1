import { createHash, createPublicKey, diffieHellman } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKademliaError } from '../errors';
import {
  exportPrivateKey,
  generateIdentity,
  identityFromPrivateKey,
  loadIdentity,
  loadOrCreateIdentity,
  saveIdentity,
  type Identity,
} from './identity';
import { idEquals, idToHex } from './node-id';

function sha1Hex(bytes: Uint8Array): string {
  return createHash('sha1').update(Buffer.from(bytes)).digest('hex');
}

function sharedSecret(own: Identity, peer: Identity): Buffer {
  const peerKey = createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(peer.publicKey).toString('base64url') },
    format: 'jwk',
  });
  return diffieHellman({ privateKey: own.privateKey, publicKey: peerKey });
}

async function expectInvalid(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isKademliaError(err, 'IDENTITY_INVALID')).toBe(true);
}

describe('identity', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kad-identity-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('generateIdentity', () => {
    it('derives the node ID as SHA-1 of the raw 32-byte X25519 public key', () => {
      const identity = generateIdentity();
      expect(identity.publicKey).toBeInstanceOf(Uint8Array);
      expect(identity.publicKey.length).toBe(32);
      expect(identity.privateKey.asymmetricKeyType).toBe('x25519');
      expect(idToHex(identity.nodeId)).toBe(sha1Hex(identity.publicKey));
    });

    it('gives a fresh key pair each time', () => {
      const a = generateIdentity();
      const b = generateIdentity();
      expect(idEquals(a.nodeId, b.nodeId)).toBe(false);
    });

    it('holds a private key that really works for X25519 key agreement', () => {
      const alice = generateIdentity();
      const bob = generateIdentity();
      const ab = sharedSecret(alice, bob);
      expect(ab.length).toBe(32);
      expect(ab.equals(sharedSecret(bob, alice))).toBe(true);
      expect(ab.equals(sharedSecret(alice, generateIdentity()))).toBe(false);
    });
  });

  describe('identityFromPrivateKey and exportPrivateKey', () => {
    it('rebuilds the same identity from the exported 32-byte scalar', () => {
      const original = generateIdentity();
      const raw = exportPrivateKey(original);
      expect(raw.length).toBe(32);
      const rebuilt = identityFromPrivateKey(raw);
      expect(Buffer.from(rebuilt.publicKey).equals(Buffer.from(original.publicKey))).toBe(true);
      expect(idEquals(rebuilt.nodeId, original.nodeId)).toBe(true);
      const peer = generateIdentity();
      expect(sharedSecret(rebuilt, peer).equals(sharedSecret(peer, original))).toBe(true);
    });

    it('matches the RFC 7748 §6.1 test vector (Alice)', () => {
      const alicePrivate = Buffer.from(
        '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
        'hex',
      );
      const identity = identityFromPrivateKey(alicePrivate);
      expect(Buffer.from(identity.publicKey).toString('hex')).toBe(
        '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
      );
    });

    it('rejects private keys that are not 32 bytes', () => {
      for (const length of [0, 16, 31, 33, 64]) {
        expect(() => identityFromPrivateKey(new Uint8Array(length))).toThrow(
          expect.objectContaining({ code: 'IDENTITY_INVALID' }),
        );
      }
    });
  });

  describe('saveIdentity and loadIdentity', () => {
    it('round-trips an identity through a file only its owner can read', async () => {
      const path = join(dir, 'nested', 'identity.json');
      const identity = generateIdentity();
      await saveIdentity(identity, path);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const loaded = await loadIdentity(path);
      expect(idEquals(loaded.nodeId, identity.nodeId)).toBe(true);
      expect(Buffer.from(loaded.publicKey).equals(Buffer.from(identity.publicKey))).toBe(true);
      const file = JSON.parse(await readFile(path, 'utf8'));
      expect(file).toEqual({
        version: 1,
        type: 'x25519',
        privateKey: expect.any(String),
        publicKey: Buffer.from(identity.publicKey).toString('base64'),
      });
    });

    it('overwrites an existing file and leaves no temporary file behind', async () => {
      const path = join(dir, 'identity.json');
      await saveIdentity(generateIdentity(), path);
      const second = generateIdentity();
      await saveIdentity(second, path);
      expect(idEquals((await loadIdentity(path)).nodeId, second.nodeId)).toBe(true);
      expect(await readdir(dir)).toEqual(['identity.json']);
    });

    it('fails with ENOENT (not a new key) when the file does not exist', async () => {
      await expect(loadIdentity(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('rejects malformed files with IDENTITY_INVALID', async () => {
      const good = generateIdentity();
      const privateKey = Buffer.from(exportPrivateKey(good)).toString('base64');
      const publicKey = Buffer.from(good.publicKey).toString('base64');
      const bodies = [
        'not json',
        '',
        '42',
        '"text"',
        '[]',
        '{}',
        JSON.stringify({ version: 2, type: 'x25519', privateKey }),
        JSON.stringify({ version: 1, type: 'ed25519', privateKey }),
        JSON.stringify({ version: 1, type: 'x25519' }),
        JSON.stringify({ version: 1, type: 'x25519', privateKey: 42 }),
        JSON.stringify({ version: 1, type: 'x25519', privateKey: Buffer.alloc(31).toString('base64') }),
        JSON.stringify({ version: 1, type: 'x25519', privateKey: Buffer.alloc(33).toString('base64') }),
        JSON.stringify({ version: 1, type: 'x25519', privateKey: '' }),
        // JSON that is not an object: reading a field of null must not surface as a TypeError.
        'null',
        'true',
        // Base64 that Node would decode leniently, skipping the junk: the key bytes must be exactly what is written.
        JSON.stringify({ version: 1, type: 'x25519', privateKey: `*${privateKey}` }),
        JSON.stringify({
          version: 1,
          type: 'x25519',
          privateKey: `${privateKey.slice(0, 20)}!${privateKey.slice(20)}`,
        }),
        JSON.stringify({ version: 1, type: 'x25519', privateKey, publicKey: `*${publicKey}` }),
        JSON.stringify({ version: 1, type: 'x25519', privateKey, publicKey: 42 }),
      ];
      for (const [i, body] of bodies.entries()) {
        const path = join(dir, `bad-${i}.json`);
        await writeFile(path, body);
        await expectInvalid(loadIdentity(path));
      }
    });

    it('rejects a file whose public key does not belong to its private key', async () => {
      const path = join(dir, 'identity.json');
      const mine = generateIdentity();
      await writeFile(
        path,
        JSON.stringify({
          version: 1,
          type: 'x25519',
          privateKey: Buffer.from(exportPrivateKey(mine)).toString('base64'),
          publicKey: Buffer.from(generateIdentity().publicKey).toString('base64'),
        }),
      );
      await expectInvalid(loadIdentity(path));
    });

    it('accepts a file without the public key and derives it', async () => {
      const path = join(dir, 'identity.json');
      const mine = generateIdentity();
      await writeFile(
        path,
        JSON.stringify({
          version: 1,
          type: 'x25519',
          privateKey: Buffer.from(exportPrivateKey(mine)).toString('base64'),
        }),
      );
      expect(idEquals((await loadIdentity(path)).nodeId, mine.nodeId)).toBe(true);
    });
  });

  describe('loadOrCreateIdentity', () => {
    it('creates an identity on first use and reloads the same one afterwards', async () => {
      const path = join(dir, 'state', 'identity.json');
      const first = await loadOrCreateIdentity(path);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const again = await loadOrCreateIdentity(path);
      expect(idEquals(again.nodeId, first.nodeId)).toBe(true);
      const peer = generateIdentity();
      expect(sharedSecret(again, peer).equals(sharedSecret(peer, first))).toBe(true);
    });

    it('never replaces a damaged file with a new key', async () => {
      const path = join(dir, 'identity.json');
      await writeFile(path, '{"version":1');
      await expectInvalid(loadOrCreateIdentity(path));
      expect(await readFile(path, 'utf8')).toBe('{"version":1');
    });
  });
});
