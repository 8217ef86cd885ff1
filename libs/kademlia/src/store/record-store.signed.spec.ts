import { RecordStore, type PutInput, type RecordOrigin } from './record-store';
import type { SignedFields } from './signed-admission';
import { signRecord, type SignedRecord } from './signed-records';
import { generateSigningKeyPair } from './signing-keys';

const HOUR = 60 * 60_000;
const publisher = generateSigningKeyPair();
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

function signed(seq: number, value = `v${seq}`, salt = ''): SignedRecord {
  return signRecord({ privateKey: publisher.privateKey, value: text(value), seq, salt: text(salt) });
}

function fieldsOf(record: SignedRecord): SignedFields {
  return { publicKey: record.publicKey, seq: record.seq, salt: record.salt, signature: record.signature };
}

function put(
  record: SignedRecord,
  overrides: Partial<PutInput> & { origin?: RecordOrigin } = {},
): Parameters<RecordStore['put']>[0] {
  return {
    key: record.key,
    value: record.value,
    ttlMs: HOUR,
    origin: 'replica',
    signed: fieldsOf(record),
    ...overrides,
  };
}

function setup() {
  let now = 1_000_000;
  const store = new RecordStore({ now: () => now });
  return { store, advance: (ms: number) => (now += ms), now: () => now };
}

describe('RecordStore with signed records', () => {
  it('stores a valid signed record with its signed fields, as copies', () => {
    const { store } = setup();
    const record = signed(1);
    const input = put(record);
    expect(store.put(input).ok).toBe(true);
    (input.signed!.signature as Uint8Array).fill(0);
    expect(store.get(record.key)?.signed).toEqual(fieldsOf(signed(1)));
    expect(store.get(record.key)?.value).toEqual(text('v1'));
  });

  it('refuses a record whose signature, key or public key does not check out, and counts it', () => {
    const { store } = setup();
    const good = signed(1);
    const forgedValue = put(good, { value: text('evil') });
    const wrongKey = put(good, { key: signed(1, 'v1', 'other-salt').key });
    const badSignature = put(good, { signed: { ...fieldsOf(good), signature: new Uint8Array(64) } });
    const smallOrderKey = put(good, {
      signed: { ...fieldsOf(good), publicKey: new Uint8Array(32), signature: new Uint8Array(64) },
    });
    for (const input of [forgedValue, wrongKey, badSignature, smallOrderKey]) {
      expect(store.put(input)).toEqual({ ok: false, reason: 'bad_signature' });
    }
    expect(store.get(good.key)).toBeUndefined();
    expect(store.stats().rejected.bad_signature).toBe(4);
  });

  it('refuses signed fields of the wrong shape as bad_record and value + salt over 900 bytes as too_large', () => {
    const { store } = setup();
    const good = signed(1);
    expect(store.put(put(good, { signed: { ...fieldsOf(good), seq: -1 } }))).toEqual({
      ok: false,
      reason: 'bad_record',
    });
    const big = signRecord({
      privateKey: publisher.privateKey,
      value: new Uint8Array(880),
      seq: 1,
      salt: new Uint8Array(20),
    });
    expect(store.put(put(big))).toEqual({ ok: true, record: expect.anything() });
    const tooBig = { ...fieldsOf(big), salt: new Uint8Array(21) };
    expect(store.put(put(big, { signed: tooBig }))).toEqual({ ok: false, reason: 'too_large' });
  });

  it('keeps the highest seq: a newer version replaces, an older one or a reused seq is refused', () => {
    const { store } = setup();
    expect(store.put(put(signed(1))).ok).toBe(true);
    expect(store.put(put(signed(3))).ok).toBe(true);
    expect(store.put(put(signed(2)))).toEqual({ ok: false, reason: 'seq_too_low' });
    expect(store.put(put(signed(3, 'another value')))).toEqual({ ok: false, reason: 'seq_reused' });
    const held = store.get(signed(1).key);
    expect([held?.signed?.seq, held?.value]).toEqual([3, text('v3')]);
    expect(store.stats().rejected).toMatchObject({ seq_too_low: 1, seq_reused: 1 });
  });

  it('treats the same version again as a refresh that extends the lifetime and never shortens it', () => {
    const { store, advance, now } = setup();
    store.put(put(signed(1), { ttlMs: 2 * HOUR }));
    advance(HOUR);
    expect(store.put(put(signed(1), { ttlMs: 3 * HOUR })).ok).toBe(true);
    expect(store.get(signed(1).key)?.expiresAt).toBe(now() + 3 * HOUR);
    // A replayed copy with a short TTL is accepted (same version) but cannot cut the lifetime.
    expect(store.put(put(signed(1), { ttlMs: 1_000 })).ok).toBe(true);
    expect(store.get(signed(1).key)?.expiresAt).toBe(now() + 3 * HOUR);
  });

  it('checks a copy of the held version that differs in any byte, so a refresh cannot smuggle in a forgery', () => {
    const { store } = setup();
    const record = signed(1);
    store.put(put(record));
    const altered = [
      put(record, { signed: { ...fieldsOf(record), signature: new Uint8Array(64).fill(9) } }),
      put(record, { value: text('v2') }),
    ];
    for (const input of altered) expect(store.put(input)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(store.put(put(record)).ok).toBe(true);
    expect(store.get(record.key)?.signed?.signature).toEqual(record.signature);
  });

  it('keeps a signed key signed: an immutable write to it is refused, whatever its origin', () => {
    const { store } = setup();
    const record = signed(1);
    store.put(put(record));
    for (const origin of ['replica', 'cache', 'publish'] as const) {
      expect(store.put({ key: record.key, value: text('squat'), ttlMs: HOUR, origin })).toEqual({
        ok: false,
        reason: 'signed_key',
      });
    }
    expect(store.get(record.key)?.value).toEqual(text('v1'));
  });

  it('lets a valid signed record replace an immutable record under its key', () => {
    const { store } = setup();
    const record = signed(1);
    store.put({
      key: record.key,
      value: text('squat'),
      ttlMs: HOUR,
      origin: 'replica',
      sourceIp: '10.0.0.9',
    });
    expect(store.put(put(record, { sourceIp: '10.0.0.1' })).ok).toBe(true);
    expect(store.get(record.key)).toMatchObject({ value: text('v1'), sourceIp: '10.0.0.1' });
    expect(store.get(record.key)?.signed?.seq).toBe(1);
  });

  it('lets a cached newer version update a replica, keeping its origin and lifetime; a cached refresh is a no-op', () => {
    const { store, now } = setup();
    store.put(put(signed(1), { ttlMs: 10 * HOUR }));
    const before = store.get(signed(1).key);
    expect(store.put(put(signed(1), { origin: 'cache', ttlMs: 20 * HOUR }))).toEqual({
      ok: true,
      record: before,
    });
    expect(store.put(put(signed(2), { origin: 'cache', ttlMs: 60_000 })).ok).toBe(true);
    expect(store.get(signed(1).key)).toMatchObject({
      origin: 'replica',
      value: text('v2'),
      expiresAt: now() + 10 * HOUR,
    });
  });

  it('counts salt, public key and signature against the byte budget', () => {
    const { store } = setup();
    const record = signed(1, 'v1', 'salt');
    store.put(put(record));
    expect(store.bytes).toBe(2 + 4 + 32 + 64);
    store.delete(record.key);
    expect(store.bytes).toBe(0);
  });

  it('replicates a signed record like any other, with its signed fields', () => {
    const { store, advance } = setup();
    store.put(put(signed(4), { ttlMs: 2 * HOUR }));
    advance(HOUR);
    expect(store.dueForReplication(HOUR).map((r) => r.signed?.seq)).toEqual([4]);
  });
});
