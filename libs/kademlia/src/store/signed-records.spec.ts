import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { isKademliaError } from '../errors';
import {
  acceptUpdate,
  recordProblem,
  signableBytes,
  signedRecordKey,
  signRecord,
  verifyRecord,
  type SignedRecord,
} from './signed-records';
import {
  exportSigningSeed,
  generateSigningKeyPair,
  isUnsafePublicKey,
  signingKeyPairFromSeed,
} from './signing-keys';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const doc = readFileSync(join(__dirname, '../../../../docs/signed-records.md'), 'utf8');

/** RFC 8032 §7.1, TEST 1: the seed and its public key, so the key derivation is checked against the RFC. */
const SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const PUBLIC_KEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

const VECTORS = [
  {
    name: 'no-salt',
    salt: '',
    seq: 1,
    value: '48656c6c6f20576f726c6421',
    key: '5b27aa5589179770e47575b162a1ded97b8bfc6d',
    signable:
      '6b6164666c6565742d7369676e65642d7265636f72642d7631000000000000000001000c48656c6c6f20576f726c6421',
    signature:
      '56804b952b4af77e1022c4cb99273ff99aa8c18b6891645cd5699e1732d6b583' +
      '62d31f719b3358895e3756b2b5600c26de0d0cfc1af6ae4d8c02a3dc56566705',
  },
  {
    name: 'salted',
    salt: '666f6f626172',
    seq: 1,
    value: '48656c6c6f20576f726c6421',
    key: '1d0d2903ea3da4e9595d74a68025d60c21f35690',
    signable:
      '6b6164666c6565742d7369676e65642d7265636f72642d763106666f6f6261720000000000000001000c48656c6c6f20576f726c6421',
    signature:
      '432577f0dc7f1638208074f4fe06c3948c307c0da3f6f6f73d143ff14bc805c6' +
      '5278fb1689ece7ea27f7337cac7fc803915148f8c4466881c13cf5303960cb0c',
  },
  {
    name: 'max-seq-empty-value',
    salt: '',
    seq: 9_007_199_254_740_991,
    value: '',
    key: '5b27aa5589179770e47575b162a1ded97b8bfc6d',
    signable: '6b6164666c6565742d7369676e65642d7265636f72642d763100001fffffffffffff0000',
    signature:
      '89d6051d23de74bbef5743b30a547e8635280770915aa62486b655c0f5364bdb' +
      '3d88d6088d4423215799017174b639f2c020c763771303ec44899cceaac5a606',
  },
];

const publisher = generateSigningKeyPair();

function signed(overrides: { value?: string; seq?: number; salt?: string } = {}): SignedRecord {
  return signRecord({
    privateKey: publisher.privateKey,
    value: bytes(overrides.value ?? 'v1'),
    seq: overrides.seq ?? 1,
    salt: bytes(overrides.salt ?? ''),
  });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isKademliaError(err) ? err.code : 'not a KademliaError';
  }
  return undefined;
}

describe('signed records: golden vectors (docs/signed-records.md)', () => {
  const pair = signingKeyPairFromSeed(fromHex(SEED));

  it('derives the RFC 8032 public key from the seed and exports the seed back', () => {
    expect(hex(pair.publicKey)).toBe(PUBLIC_KEY);
    expect(hex(exportSigningSeed(pair.privateKey))).toBe(SEED);
    expect(doc).toContain(SEED);
    expect(doc).toContain(PUBLIC_KEY);
  });

  it.each(VECTORS)('$name: key, signed bytes and signature match, and the document lists them', (v) => {
    const record = signRecord({
      privateKey: pair.privateKey,
      value: fromHex(v.value),
      seq: v.seq,
      salt: fromHex(v.salt),
    });
    expect(hex(record.key)).toBe(v.key);
    expect(hex(signableBytes(record))).toBe(v.signable);
    expect(hex(record.signature)).toBe(v.signature);
    expect(verifyRecord(record)).toBe(true);
    for (const field of [v.key, v.signable, v.signature]) expect(doc).toContain(field);
  });
});

describe('signRecord and verifyRecord', () => {
  it('round-trips with a fresh key pair and with one rebuilt from its seed', () => {
    const record = signed({ value: 'hello', seq: 7, salt: 'profile' });
    expect(verifyRecord(record)).toBe(true);
    expect(record.key).toEqual(signedRecordKey(publisher.publicKey, bytes('profile')));
    const again = signingKeyPairFromSeed(exportSigningSeed(publisher.privateKey));
    expect(again.publicKey).toEqual(publisher.publicKey);
    expect(verifyRecord(signRecord({ privateKey: again.privateKey, value: bytes('x'), seq: 0 }))).toBe(true);
  });

  it('copies its inputs, so later changes to the caller’s buffers cannot break the signature', () => {
    const value = bytes('abc');
    const salt = bytes('s');
    const record = signRecord({ privateKey: publisher.privateKey, value, seq: 1, salt });
    value[0] = 0;
    salt[0] = 0;
    expect(verifyRecord(record)).toBe(true);
  });

  it('rejects every tampered field', () => {
    const good = signed({ value: 'value', seq: 5, salt: 'salt' });
    const other = generateSigningKeyPair();
    const flip = (b: Uint8Array) => {
      const out = new Uint8Array(b);
      out[out.length - 1] ^= 1;
      return out;
    };
    const cases: [Partial<SignedRecord>, string][] = [
      [{ value: bytes('valuf') }, 'bad_signature'],
      [{ seq: 6 }, 'bad_signature'],
      [{ signature: flip(good.signature) }, 'bad_signature'],
      [{ salt: bytes('salu') }, 'key_not_derived'],
      [{ key: flip(good.key) }, 'key_not_derived'],
      [{ publicKey: other.publicKey }, 'key_not_derived'],
      [{ publicKey: other.publicKey, key: signedRecordKey(other.publicKey, good.salt) }, 'bad_signature'],
    ];
    for (const [change, problem] of cases) {
      const record = { ...good, ...change };
      expect(recordProblem(record)).toBe(problem);
      expect(verifyRecord(record)).toBe(false);
    }
  });

  it('bounds value plus salt by maxValueBytes (900 by default, to fit one encrypted packet) and the salt by 64 bytes', () => {
    const fits = signRecord({
      privateKey: publisher.privateKey,
      value: new Uint8Array(890),
      seq: 1,
      salt: new Uint8Array(10),
    });
    expect(verifyRecord(fits)).toBe(true);
    expect(recordProblem(fits, { maxValueBytes: 899 })).toBe('too_large');
    expect(
      codeOf(() => signRecord({ privateKey: publisher.privateKey, value: new Uint8Array(901), seq: 1 })),
    ).toBe('VALUE_TOO_LARGE');
    expect(
      codeOf(() =>
        signRecord({
          privateKey: publisher.privateKey,
          value: new Uint8Array(891),
          seq: 1,
          salt: new Uint8Array(10),
        }),
      ),
    ).toBe('VALUE_TOO_LARGE');
    expect(
      codeOf(() =>
        signRecord({
          privateKey: publisher.privateKey,
          value: new Uint8Array(1),
          seq: 1,
          salt: new Uint8Array(65),
        }),
      ),
    ).toBe('RECORD_INVALID');
    expect(recordProblem({ ...fits, salt: new Uint8Array(65) })).toBe('malformed');
  });

  it('accepts seq 0 through 2^53-1 and refuses anything else', () => {
    expect(verifyRecord(signed({ seq: 0 }))).toBe(true);
    expect(verifyRecord(signed({ seq: Number.MAX_SAFE_INTEGER }))).toBe(true);
    for (const seq of [-1, 1.5, 2 ** 53, NaN, Infinity]) {
      expect(codeOf(() => signed({ seq }))).toBe('RECORD_INVALID');
      expect(recordProblem({ ...signed(), seq })).toBe('malformed');
    }
    expect(recordProblem({ ...signed(), seq: '1' })).toBe('malformed');
    expect(recordProblem({ ...signed(), seq: BigInt(1) })).toBe('malformed');
  });

  it('signs only with an Ed25519 private key', () => {
    const x25519 = generateKeyPairSync('x25519').privateKey;
    const ed25519Public = createPublicKey(publisher.privateKey);
    expect(codeOf(() => signRecord({ privateKey: x25519, value: bytes('v'), seq: 1 }))).toBe(
      'RECORD_INVALID',
    );
    expect(codeOf(() => signRecord({ privateKey: ed25519Public, value: bytes('v'), seq: 1 }))).toBe(
      'RECORD_INVALID',
    );
    expect(codeOf(() => signingKeyPairFromSeed(new Uint8Array(31)))).toBe('RECORD_INVALID');
  });

  it('never throws on junk and never calls it valid', () => {
    const good = signed();
    const junk: unknown[] = [
      null,
      undefined,
      0,
      'record',
      [],
      {},
      { ...good, key: undefined },
      { ...good, key: new Uint8Array(19) },
      { ...good, publicKey: new Uint8Array(31) },
      { ...good, publicKey: Array.from(good.publicKey) },
      { ...good, signature: new Uint8Array(63) },
      { ...good, value: 'v1' },
      { ...good, value: new Uint8Array(70_000) },
      { ...good, salt: null },
      {
        ...good,
        publicKey: new Uint8Array(32).fill(0xff),
        key: signedRecordKey(new Uint8Array(32).fill(0xff)),
      },
    ];
    for (const record of junk) {
      expect(() => recordProblem(record)).not.toThrow();
      expect(verifyRecord(record)).toBe(false);
    }
    fc.assert(
      fc.property(fc.anything({ withTypedArray: true }), (value) => verifyRecord(value) === false),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.record({
          key: fc.uint8Array({ minLength: 20, maxLength: 20 }),
          publicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
          salt: fc.uint8Array({ maxLength: 64 }),
          seq: fc.maxSafeNat(),
          value: fc.uint8Array({ maxLength: 100 }),
          signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
        }),
        (record) => {
          const withKey = { ...record, key: signedRecordKey(record.publicKey, record.salt) };
          return verifyRecord(record) === false && verifyRecord(withKey) === false;
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('unsafe public keys', () => {
  const smallOrder = [
    '0000000000000000000000000000000000000000000000000000000000000000',
    '0100000000000000000000000000000000000000000000000000000000000000',
    '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  ].flatMap((h) => {
    const withSign = fromHex(h);
    withSign[31] |= 0x80;
    return [fromHex(h), withSign];
  });
  // R = the identity point, S = 0: valid under a small-order key A whenever [h]A is the identity.
  const forged = new Uint8Array(64);
  forged[0] = 1;

  it('refuses small-order keys, under which OpenSSL accepts a forged signature', () => {
    for (const publicKey of smallOrder) {
      const key = createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') },
        format: 'jwk',
      });
      // Find a record this key "signs" with the forgery: proof the key is unsafe, not just unusual.
      let record: SignedRecord | undefined;
      for (let seq = 0; seq < 256 && !record; seq++) {
        const candidate = {
          key: signedRecordKey(publicKey),
          publicKey,
          salt: new Uint8Array(0),
          seq,
          value: bytes('pwned'),
          signature: forged,
        };
        if (verify(null, signableBytes(candidate), key, forged)) record = candidate;
      }
      expect(record).toBeDefined();
      expect(isUnsafePublicKey(publicKey)).toBe(true);
      expect(recordProblem(record)).toBe('unsafe_public_key');
    }
  });

  it('refuses non-canonical encodings (y ≥ p) and accepts real keys', () => {
    for (let low = 0xed; low <= 0xff; low++) {
      const publicKey = new Uint8Array(32).fill(0xff);
      publicKey[0] = low;
      publicKey[31] = 0x7f;
      expect(isUnsafePublicKey(publicKey)).toBe(true);
    }
    for (let i = 0; i < 20; i++) expect(isUnsafePublicKey(generateSigningKeyPair().publicKey)).toBe(false);
    expect(isUnsafePublicKey(fromHex(PUBLIC_KEY))).toBe(false);
  });
});

describe('acceptUpdate', () => {
  it('stores a valid first record and a newer one', () => {
    const first = signed({ seq: 1 });
    expect(acceptUpdate(undefined, first)).toEqual({ outcome: 'store', record: first });
    const newer = signed({ seq: 2, value: 'v2' });
    expect(acceptUpdate(first, newer)).toEqual({ outcome: 'store', record: newer });
  });

  it('rejects an older seq, and the same seq with another value', () => {
    const current = signed({ seq: 5, value: 'five' });
    expect(acceptUpdate(current, signed({ seq: 4, value: 'four' }))).toEqual({
      outcome: 'reject',
      reason: 'seq_too_low',
    });
    expect(acceptUpdate(current, signed({ seq: 5, value: 'other' }))).toEqual({
      outcome: 'reject',
      reason: 'seq_reused',
    });
  });

  it('treats the same seq and value as a refresh of the record it holds, not an error', () => {
    const current = signed({ seq: 5, value: 'five' });
    const again = signed({ seq: 5, value: 'five' });
    const decision = acceptUpdate(current, again);
    expect(decision).toEqual({ outcome: 'refresh', record: current });
    expect(decision.outcome === 'refresh' && decision.record).toBe(current);
  });

  it('rejects a bad signature and a record for another key, whatever the seq', () => {
    const current = signed({ seq: 1 });
    const forged = { ...signed({ seq: 9 }), value: bytes('evil') };
    expect(acceptUpdate(current, forged)).toEqual({ outcome: 'reject', reason: 'bad_signature' });
    expect(acceptUpdate(undefined, forged)).toEqual({ outcome: 'reject', reason: 'bad_signature' });
    expect(acceptUpdate(current, signed({ seq: 9, salt: 'elsewhere' }))).toEqual({
      outcome: 'reject',
      reason: 'key_mismatch',
    });
    const stranger = generateSigningKeyPair();
    const theirs = signRecord({ privateKey: stranger.privateKey, value: bytes('mine'), seq: 100 });
    expect(acceptUpdate(current, theirs)).toEqual({ outcome: 'reject', reason: 'key_mismatch' });
  });

  it('rejects junk and oversized records with their problem', () => {
    expect(acceptUpdate(undefined, { nonsense: true })).toEqual({ outcome: 'reject', reason: 'malformed' });
    const big = signRecord({ privateKey: publisher.privateKey, value: new Uint8Array(600), seq: 2 });
    expect(acceptUpdate(signed({ seq: 1 }), big, { maxValueBytes: 500 })).toEqual({
      outcome: 'reject',
      reason: 'too_large',
    });
  });

  it('keeps the highest seq whatever order the updates arrive in', () => {
    const records = [3, 1, 4, 1, 5, 9, 2, 6].map((seq) => signed({ seq, value: `v${seq}` }));
    fc.assert(
      fc.property(fc.shuffledSubarray(records, { minLength: 1 }), (arrival) => {
        let held: SignedRecord | undefined;
        for (const incoming of arrival) {
          const decision = acceptUpdate(held, incoming);
          if (decision.outcome !== 'reject') held = decision.record;
        }
        return held?.seq === Math.max(...arrival.map((r) => r.seq));
      }),
      { numRuns: 100 },
    );
  });
});
