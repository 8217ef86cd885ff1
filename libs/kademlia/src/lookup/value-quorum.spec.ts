import { randomId, type NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import type { WireRecord } from '../wire/messages';
import { ValueQuorum } from './value-quorum';

function peer(): Contact {
  return { id: randomId(), publicKey: new Uint8Array(32).fill(7), host: '198.51.100.1', port: 6881 };
}

function rec(key: NodeId, text: string): WireRecord {
  return { key, value: new TextEncoder().encode(text), ttlSeconds: 60 };
}

const text = (record: WireRecord | undefined) => new TextDecoder().decode(record?.value);

describe('ValueQuorum', () => {
  it('with one path, stops at the first value and counts every answer', () => {
    const key = randomId();
    const quorum = new ValueQuorum({ key, paths: 1 });
    expect(quorum.stopsAtFirstValue).toBe(true);
    expect(quorum.add({ record: rec(key, 'first'), from: peer(), path: 0 })).toBe('stop');
    // Standard mode has no notion of "the k closest": the answer counts wherever it came from.
    expect(text(quorum.verdict([peer()])?.record)).toBe('first');
  });

  it('with several paths, never stops early and counts only answers from the given closest nodes', () => {
    const key = randomId();
    const quorum = new ValueQuorum({ key, paths: 4 });
    const [liar, holder] = [peer(), peer()];
    expect(quorum.add({ record: rec(key, 'forged'), from: liar, path: 0 })).toBeUndefined();
    expect(quorum.add({ record: rec(key, 'forged'), from: liar, path: 1 })).toBeUndefined();
    expect(quorum.add({ record: rec(key, 'real'), from: holder, path: 2 })).toBeUndefined();
    const verdict = quorum.verdict([holder]);
    expect(text(verdict?.record)).toBe('real');
    expect(verdict).toMatchObject({ from: holder, paths: 1, responders: 1, rivals: 0 });
    expect(quorum.verdict([peer()])).toBeUndefined();
  });

  it('counts a node once however many answers it sends, and a path once however many of its nodes agree', () => {
    const key = randomId();
    const quorum = new ValueQuorum({ key, paths: 4 });
    const [a, b] = [peer(), peer()];
    for (let i = 0; i < 3; i++) quorum.add({ record: rec(key, 'v'), from: a, path: 0 });
    quorum.add({ record: rec(key, 'v'), from: b, path: 0 });
    expect(quorum.verdict([a, b])).toMatchObject({ paths: 1, responders: 2, rivals: 0 });
  });

  it('returns undefined before any value was seen', () => {
    expect(new ValueQuorum({ key: randomId(), paths: 4 }).verdict([])).toBeUndefined();
  });
});
