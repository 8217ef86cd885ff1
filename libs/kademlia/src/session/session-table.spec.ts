import { TransportSession } from './transport-session';
import { SessionTable, type PeerEntry } from './session-table';

const key = (n: number) => new Uint8Array(32).fill(n);
const keys = { initiatorToResponder: Buffer.alloc(32, 1), responderToInitiator: Buffer.alloc(32, 2) };

function session(table: SessionTable, peer: PeerEntry): TransportSession {
  return new TransportSession({
    peer,
    role: 'initiator',
    localIndex: table.newIndex(),
    remoteIndex: 7,
    keys,
    remoteClientMode: false,
    createdAt: 0,
  });
}

describe('SessionTable', () => {
  it('keys peers by (address, static key), and finds the latest peer at an address', () => {
    const table = new SessionTable({ maxPeers: 10 });
    const a = table.getOrCreate({ host: '10.0.0.1', port: 1 }, key(1));
    expect(table.getOrCreate({ host: '10.0.0.1', port: 1 }, key(1))).toBe(a);
    const b = table.getOrCreate({ host: '10.0.0.1', port: 1 }, key(2));
    expect(b).not.toBe(a);
    expect(table.getOrCreate({ host: '10.0.0.1', port: 2 }, key(1))).not.toBe(a);
    expect(table.latestAt({ host: '10.0.0.1', port: 1 })).toBe(b);
  });

  it('stores hosts canonically, so another spelling of the address finds the same peer', () => {
    const table = new SessionTable({ maxPeers: 10 });
    const peer = table.getOrCreate({ host: '2001:DB8:0::1', port: 9 }, key(1));
    expect(peer.endpoint.host).toBe('2001:db8::1');
    expect(table.getOrCreate({ host: '2001:db8::1', port: 9 }, key(1))).toBe(peer);
    expect(table.latestAt({ host: '2001:db8::1', port: 9 })).toBe(peer);
  });

  it('evicts the least recently used peer beyond maxPeers and releases its session indexes', () => {
    const evicted: PeerEntry[] = [];
    const table = new SessionTable({ maxPeers: 2, onEvict: (peer) => evicted.push(peer) });
    const a = table.getOrCreate({ host: '10.0.0.1', port: 1 }, key(1));
    const b = table.getOrCreate({ host: '10.0.0.2', port: 1 }, key(2));
    const sa = session(table, a);
    table.install(sa);
    table.touch(a);
    table.getOrCreate({ host: '10.0.0.3', port: 1 }, key(3));
    expect(evicted).toEqual([b]);
    table.getOrCreate({ host: '10.0.0.4', port: 1 }, key(4));
    expect(evicted).toEqual([b, a]);
    expect(table.owner(sa.localIndex)).toBeUndefined();
    expect(table.latestAt({ host: '10.0.0.1', port: 1 })).toBeUndefined();
    expect([table.peerCount, table.evictions]).toEqual([2, 2]);
  });

  it('keeps a current and a previous session per peer, and frees the index of the one pushed out', () => {
    const table = new SessionTable({ maxPeers: 4 });
    const peer = table.getOrCreate({ host: '10.0.0.1', port: 1 }, key(1));
    const [s1, s2, s3] = [session(table, peer), session(table, peer), session(table, peer)];
    for (const s of [s1, s2, s3]) table.install(s);
    expect([peer.current, peer.previous]).toEqual([s3, s2]);
    expect(table.owner(s1.localIndex)).toBeUndefined();
    expect(table.owner(s2.localIndex)).toBe(s2);
    table.remove(s3);
    expect(peer.current).toBeUndefined();
    expect(table.indexCount).toBe(1);
  });

  it('draws a new index until it finds one not in use', () => {
    const draws = [5, 5, 6];
    const table = new SessionTable({ maxPeers: 4, randomIndex: () => draws.shift()! });
    const peer = table.getOrCreate({ host: '10.0.0.1', port: 1 }, key(1));
    table.install(session(table, peer));
    expect(table.newIndex()).toBe(6);
  });
});
