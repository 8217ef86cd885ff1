import {
  compareDistance,
  generateSigningKeyPair,
  idEquals,
  signRecord,
  type KademliaDHT,
  type SignedRecord,
} from '../../libs/kademlia/src';
import type { NodeRuntime } from '../../libs/kademlia/src/node/node-runtime';
import { MessageType, StoreStatus, type WireRecord } from '../../libs/kademlia/src/wire/messages';
import { startUdpSwarm, type UdpSwarm } from '../helpers/udp-swarm';

/**
 * Signed mutable values over real UDP: 24 nodes on distinct loopback addresses, encrypted sessions (the default).
 * A publisher moves its record from seq 1 to seq 2; a forged record, a replay of seq 1 and an immutable record
 * under the signed key are then pushed to every holder by an attacker node, and every holder refuses them.
 */

const SIZE = 24;
jest.setTimeout(60_000);

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array | undefined): string | undefined =>
  bytes && new TextDecoder().decode(bytes);

/** The node's internals: the attacker uses them to send raw STOREs, the checks to read each store. */
function runtimeOf(node: KademliaDHT): NodeRuntime {
  return (node as unknown as { running: { runtime: NodeRuntime } }).running.runtime;
}

/**
 * An attacker node STOREs a record, valid or not, directly at each target: a FIND_VALUE gets it a write token, as
 * any peer may, then the STORE goes out. Resolves with the count of each STORE_ACK status, e.g. { ok: 3 }.
 */
async function pushAsAttacker(
  attacker: KademliaDHT,
  input: { record: WireRecord; targets: readonly KademliaDHT[] },
): Promise<Record<string, number>> {
  const runtime = runtimeOf(attacker);
  const statuses: Record<string, number> = {};
  for (const target of input.targets) {
    const contact = {
      id: target.nodeId,
      publicKey: target.publicKey,
      host: target.address().address,
      port: target.address().port,
    };
    const probe = await runtime.request(
      contact,
      { type: MessageType.FIND_VALUE, key: input.record.key },
      { retries: 2 },
    );
    const token = 'token' in probe.message ? probe.message.token : undefined;
    if (!token) throw new Error('no write token in the FIND_VALUE reply');
    const ack = await runtime.request(
      contact,
      { type: MessageType.STORE, token, record: input.record },
      { retries: 2 },
    );
    const status = ack.message.type === MessageType.STORE_ACK ? StoreStatus[ack.message.status] : 'no_ack';
    statuses[status.toLowerCase()] = (statuses[status.toLowerCase()] ?? 0) + 1;
  }
  return statuses;
}

describe(`signed values on a ${SIZE}-node UDP network`, () => {
  let swarm: UdpSwarm;
  const publisherKeys = generateSigningKeyPair();
  let seq1: SignedRecord;

  const holdersOf = (key: Uint8Array) =>
    swarm.nodes.filter((node) => runtimeOf(node).store.get(key) !== undefined);
  const heldSeqs = (key: Uint8Array) =>
    holdersOf(key).map((node) => runtimeOf(node).store.get(key)?.signed?.seq);

  /** Every holder of key holds a version the publisher signed, with that version's value. */
  const genuineVersions = (key: Uint8Array): boolean =>
    holdersOf(key).every((node) => {
      const held = runtimeOf(node).store.get(key);
      const expected: Record<number, string> = { 1: 'status: online', 2: 'status: away', 3: 'status: busy' };
      return held?.signed !== undefined && decode(held.value) === expected[held.signed.seq];
    });

  const closestTo = (key: Uint8Array): KademliaDHT[] =>
    [...swarm.nodes].sort((a, b) => compareDistance(key, a.nodeId, b.nodeId));

  beforeAll(async () => {
    swarm = await startUdpSwarm({ size: SIZE });
  });

  afterAll(async () => {
    await swarm?.stop();
  });

  it('stores seq 1 then seq 2 on the closest nodes, and every reader gets seq 2', async () => {
    const publisher = swarm.nodes[3];
    const first = await publisher.putSigned({ keyPair: publisherKeys, value: 'status: online', seq: 1 });
    expect(first.statuses).toEqual({ ok: first.attempted });
    expect(first.acknowledged).toBeGreaterThanOrEqual(15);
    seq1 = first.record;

    const second = await publisher.putSigned({ keyPair: publisherKeys, value: 'status: away', seq: 2 });
    expect(second.statuses).toEqual({ ok: second.attempted });
    expect(second.local).toBe('ok');
    expect(idEquals(second.record.key, seq1.key)).toBe(true);
    expect(new Set(heldSeqs(seq1.key))).toEqual(new Set([2]));

    for (const reader of [swarm.nodes[0], swarm.nodes[11], swarm.nodes[SIZE - 1]]) {
      const found = await reader.getSigned(publisherKeys.publicKey);
      expect([found?.seq, decode(found?.value)]).toEqual([2, 'status: away']);
    }
  });

  it('reads with minSeq: the current version when it is new enough, nothing when it is not', async () => {
    const reader = swarm.nodes[7];
    expect((await reader.getSigned(publisherKeys.publicKey, { minSeq: 2 }))?.seq).toBe(2);
    expect(await reader.getSigned(publisherKeys.publicKey, { minSeq: 3 })).toBeUndefined();
  });

  it('picks seq 3 by itself when seq is omitted, and keeps records under different salts apart', async () => {
    const publisher = swarm.nodes[5];
    const profile = await publisher.putSigned({
      keyPair: publisherKeys,
      value: 'profile v0',
      salt: 'profile',
    });
    expect(profile.record.seq).toBe(0);
    expect(idEquals(profile.record.key, seq1.key)).toBe(false);
    const next = await publisher.putSigned({ keyPair: publisherKeys, value: 'status: busy' });
    expect(next.record.seq).toBe(3);
    const reader = swarm.nodes[SIZE - 2];
    expect(decode((await reader.getSigned(publisherKeys.publicKey, { salt: 'profile' }))?.value)).toBe(
      'profile v0',
    );
    expect((await reader.getSigned(publisherKeys.publicKey))?.seq).toBe(3);
  });

  it('refuses a forged record, a replayed older seq and an immutable record under the key at every holder', async () => {
    const attacker = swarm.nodes[SIZE - 3];
    const key = seq1.key;
    const holders = holdersOf(key).filter((node) => node !== attacker);
    expect(holders.length).toBeGreaterThanOrEqual(15);
    // The k closest all took the seq 3 publish; a node outside them (the first publisher keeps its own seq 2)
    // may hold an older version. The attack must change none of them.
    const before = heldSeqs(key);
    expect(before.filter((seq) => seq === 3).length).toBeGreaterThanOrEqual(15);
    const rejectedBefore = swarm.nodes.map((node) => node.stats().store.rejected);

    const forged = { ...seq1, seq: 99, value: text('status: hacked'), ttlSeconds: 3600 };
    const forgery = await pushAsAttacker(attacker, { record: forged, targets: holders });
    const replay = await pushAsAttacker(attacker, {
      record: { ...seq1, ttlSeconds: 3600 },
      targets: holders,
    });
    const squatter = { key, value: text('status: squatted'), ttlSeconds: 3600 };
    const squat = await pushAsAttacker(attacker, { record: squatter, targets: holders });

    // Every holder said no, with the status that names the reason. (The first publisher holds seq 2, so a replay
    // of seq 1 is too low there as well.)
    expect(forgery).toEqual({ bad_signature: holders.length });
    expect(replay).toEqual({ seq_too_low: holders.length });
    expect(squat).toEqual({ bad_record: holders.length });

    // Every holder still holds a genuine version (a background read repair may move a seq 2 holder to 3), and
    // readers still get seq 3.
    expect(genuineVersions(key)).toBe(true);
    expect(heldSeqs(key).filter((seq) => seq === 3).length).toBeGreaterThanOrEqual(
      before.filter((seq) => seq === 3).length,
    );
    const found = await swarm.nodes[1].getSigned(publisherKeys.publicKey);
    expect([found?.seq, decode(found?.value)]).toEqual([3, 'status: busy']);

    const rejected = (reason: 'bad_signature' | 'seq_too_low' | 'signed_key') =>
      swarm.nodes.reduce(
        (sum, node, i) => sum + node.stats().store.rejected[reason] - rejectedBefore[i][reason],
        0,
      );
    expect(rejected('bad_signature')).toBe(holders.length);
    expect(rejected('seq_too_low')).toBe(holders.length);
    expect(rejected('signed_key')).toBe(holders.length);
  });

  it('refuses a record signed by another key for the same key', async () => {
    const attacker = swarm.nodes[SIZE - 4];
    const holders = holdersOf(seq1.key).filter((node) => node !== attacker);
    const before = heldSeqs(seq1.key);
    const impostor = signRecord({
      privateKey: generateSigningKeyPair().privateKey,
      value: text('mine'),
      seq: 100,
    });
    const record = { ...impostor, key: seq1.key, ttlSeconds: 3600 };
    expect(await pushAsAttacker(attacker, { record, targets: holders })).toEqual({
      bad_signature: holders.length,
    });
    expect(genuineVersions(seq1.key)).toBe(true);
    expect(heldSeqs(seq1.key).length).toBe(before.length);
  });

  it('replicates the whole signed record: a holder that lost it gets it back, signature and all', async () => {
    const key = seq1.key;
    // The two nodes closest to the key: each is among the k closest the other's replication round finds.
    const [lost, replicator] = closestTo(key);
    expect(runtimeOf(replicator).store.get(key)?.signed?.seq).toBe(3);
    runtimeOf(lost).store.delete(key);
    await replicator.replicateNow();
    const restored = runtimeOf(lost).store.get(key);
    expect(restored?.signed?.seq).toBe(3);
    expect(decode(restored?.value)).toBe('status: busy');
  });

  it('heals a holder with an older version when a reader finds a newer one (read repair)', async () => {
    const key = seq1.key;
    // The second closest node: among the k closest of any reader's lookup, so read repair reaches it.
    const stale = closestTo(key)[1];
    const store = runtimeOf(stale).store;
    store.delete(key);
    store.put({
      key,
      value: seq1.value,
      ttlMs: 3_600_000,
      origin: 'replica',
      signed: { publicKey: seq1.publicKey, seq: 1, salt: seq1.salt, signature: seq1.signature },
    });
    expect(store.get(key)?.signed?.seq).toBe(1);
    const reader = swarm.nodes.find((node) => node !== stale)!;
    expect((await reader.getSigned(publisherKeys.publicKey))?.seq).toBe(3);
    // Repair runs in the background of the read; one round trip on loopback is enough, but wait boundedly.
    for (let i = 0; i < 100 && store.get(key)?.signed?.seq !== 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(store.get(key)?.signed?.seq).toBe(3);
  });
});
