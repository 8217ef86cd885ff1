import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Encoder } from 'cbor-x';
import fc from 'fast-check';
import { isKademliaError } from '../errors';
import { nodeIdFromPublicKey } from '../id/key-id';
import { idToHex } from '../id/node-id';
import type { Contact } from './contact';
import { loadSnapshot, readSnapshot, saveSnapshot } from './snapshot';

const cbor = new Encoder({ useRecords: false, tagUint8Array: false });

function contact(host: string, port: number): Contact {
  const publicKey = new Uint8Array(randomBytes(32));
  return { id: nodeIdFromPublicKey(publicKey), publicKey, host, port };
}

const summary = (contacts: Contact[]) =>
  contacts.map((c) => `${idToHex(c.id)}@${c.host}:${c.port}:${Buffer.from(c.publicKey).toString('hex')}`);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('routing-table snapshots', () => {
  let dir: string;
  let path: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kadfleet-snapshot-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    path = join(dir, `${randomBytes(4).toString('hex')}.cbor`);
  });

  const expectInvalid = async (bytes: Uint8Array, options?: { maxContacts?: number }) => {
    await writeFile(path, bytes);
    const err = await rejection(readSnapshot(path, options));
    expect(isKademliaError(err, 'SNAPSHOT_INVALID')).toBe(true);
  };
  const validRow = () => [new Uint8Array(32).fill(7), '192.0.2.1', 6881];

  it('round-trips IPv4 and IPv6 contacts with the save time', async () => {
    const contacts = [contact('192.0.2.10', 6881), contact('2001:db8::1', 40000), contact('127.0.0.1', 1)];
    await saveSnapshot(path, contacts, { now: 1_700_000_000_000 });
    expect(summary(await loadSnapshot(path))).toEqual(summary(contacts));
    expect((await readSnapshot(path))?.savedAtMs).toBe(1_700_000_000_000);
  });

  it('re-derives every ID from its public key instead of trusting the file', async () => {
    const honest = contact('192.0.2.10', 6881);
    await saveSnapshot(path, [{ ...honest, id: new Uint8Array(20).fill(1) }]);
    const [loaded] = await loadSnapshot(path);
    expect(idToHex(loaded.id)).toBe(idToHex(honest.id));
  });

  it('returns [] (and readSnapshot null) when there is no file', async () => {
    expect(await loadSnapshot(join(dir, 'missing.cbor'))).toEqual([]);
    expect(await readSnapshot(join(dir, 'missing.cbor'))).toBeNull();
  });

  it('writes atomically: replaces the old file and leaves no temporary file behind', async () => {
    const nested = join(dir, 'state', 'node-1', 'table.cbor');
    await saveSnapshot(nested, [contact('192.0.2.1', 1)]);
    const second = [contact('192.0.2.2', 2), contact('192.0.2.3', 3)];
    await saveSnapshot(nested, second);
    expect(summary(await loadSnapshot(nested))).toEqual(summary(second));
    expect(await readdir(join(dir, 'state', 'node-1'))).toEqual(['table.cbor']);
  });

  it('skips contacts the loader would reject, and writes at most maxContacts', async () => {
    const good = [contact('192.0.2.1', 1), contact('192.0.2.2', 2), contact('192.0.2.3', 3)];
    const bad = [
      { ...contact('192.0.2.9', 9), publicKey: new Uint8Array(31) },
      contact('example.com', 9),
      contact('192.0.2.9', 0),
      contact('192.0.2.9', 65_536),
    ];
    await saveSnapshot(path, [good[0], ...bad, good[1], good[2]], { maxContacts: 2 });
    expect(summary(await loadSnapshot(path))).toEqual(summary(good.slice(0, 2)));
  });

  it('drops duplicate keys on load', async () => {
    const once = contact('192.0.2.1', 1);
    await saveSnapshot(path, [once, { ...once, port: 2 }]);
    expect(summary(await loadSnapshot(path))).toEqual(summary([once]));
  });

  it('rejects every truncation of a valid file with SNAPSHOT_INVALID', async () => {
    await saveSnapshot(path, [contact('192.0.2.1', 1), contact('2001:db8::2', 2)]);
    const whole = await readFile(path);
    for (let length = 0; length < whole.length; length++) await expectInvalid(whole.subarray(0, length));
  });

  it.each([
    ['not CBOR', Buffer.from([0xff, 0x00, 0x13])],
    ['trailing bytes', Buffer.concat([cbor.encode(['kadfleet-rt', 1, 0, []]), Buffer.from([0])])],
    ['not an array', cbor.encode({ magic: 'kadfleet-rt' })],
    ['wrong magic', cbor.encode(['other-file', 1, 0, []])],
    ['unknown version', cbor.encode(['kadfleet-rt', 2, 0, []])],
    ['negative save time', cbor.encode(['kadfleet-rt', 1, -1, []])],
    ['contacts not an array', cbor.encode(['kadfleet-rt', 1, 0, 'none'])],
    ['short key', cbor.encode(['kadfleet-rt', 1, 0, [[new Uint8Array(31), '192.0.2.1', 1]]])],
    ['key as text', cbor.encode(['kadfleet-rt', 1, 0, [['k'.repeat(32), '192.0.2.1', 1]]])],
    [
      'host name instead of IP',
      cbor.encode(['kadfleet-rt', 1, 0, [[new Uint8Array(32), 'evil.example', 1]]]),
    ],
    ['port out of range', cbor.encode(['kadfleet-rt', 1, 0, [[new Uint8Array(32), '192.0.2.1', 70_000]]])],
    ['fractional port', cbor.encode(['kadfleet-rt', 1, 0, [[new Uint8Array(32), '192.0.2.1', 1.5]]])],
    ['row too short', cbor.encode(['kadfleet-rt', 1, 0, [[new Uint8Array(32), '192.0.2.1']]])],
    [
      'array length bomb',
      Buffer.from([0x84, 0x6b, ...Buffer.from('kadfleet-rt'), 0x01, 0x00, 0x9a, 0x7f, 0xff, 0xff, 0xff]),
    ],
    ['nesting bomb', Buffer.alloc(200_000, 0x81)],
  ])('rejects a hostile file (%s) with SNAPSHOT_INVALID', async (_name, bytes) => {
    await expectInvalid(new Uint8Array(bytes));
  });

  it('rejects a file with more contacts than allowed, and oversized files before decoding', async () => {
    await expectInvalid(cbor.encode(['kadfleet-rt', 1, 0, [validRow(), validRow(), validRow()]]), {
      maxContacts: 2,
    });
    await expectInvalid(new Uint8Array(10_000), { maxContacts: 1 });
  });

  it('rejects a path that is not a readable file with SNAPSHOT_INVALID', async () => {
    const folder = join(dir, 'a-folder');
    await mkdir(folder);
    expect(isKademliaError(await rejection(loadSnapshot(folder)), 'SNAPSHOT_INVALID')).toBe(true);
  });

  it('never fails any other way on damaged files: valid contacts or SNAPSHOT_INVALID', async () => {
    await saveSnapshot(path, [contact('192.0.2.1', 1), contact('2001:db8::2', 2), contact('10.0.0.1', 3)]);
    const original = await readFile(path);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }),
          fc
            .array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 1, max: 255 })), {
              minLength: 1,
              maxLength: 4,
            })
            .map((flips) => {
              const damaged = new Uint8Array(original);
              for (const [at, mask] of flips) damaged[at] ^= mask;
              return damaged;
            }),
        ),
        async (bytes) => {
          await writeFile(path, bytes);
          try {
            for (const c of await loadSnapshot(path)) {
              expect(c.publicKey).toHaveLength(32);
              expect(idToHex(c.id)).toBe(idToHex(nodeIdFromPublicKey(c.publicKey)));
              expect(isIP(c.host)).not.toBe(0);
              expect(Number.isInteger(c.port) && c.port >= 1 && c.port <= 65_535).toBe(true);
            }
          } catch (err) {
            expect(isKademliaError(err, 'SNAPSHOT_INVALID')).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
