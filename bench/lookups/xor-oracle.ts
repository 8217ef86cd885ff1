/**
 * The brute-force truth a lookup is judged against: every node ID of the network sorted by XOR distance to the
 * target. Byte-wise, so it serves 20-byte (kadfleet, bittorrent-dht) and 32-byte (dht-rpc) IDs alike.
 */

export function compareXorDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < target.length; i++) {
    const da = (a[i] ?? 0) ^ target[i];
    const db = (b[i] ?? 0) ^ target[i];
    if (da !== db) return da - db;
  }
  return 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** The k IDs closest to target, nearest first, leaving out the querying node itself (no lookup returns it). */
export function trueClosest(input: {
  ids: readonly Uint8Array[];
  target: Uint8Array;
  k: number;
  self: Uint8Array;
}): Uint8Array[] {
  return input.ids
    .filter((id) => !sameBytes(id, input.self))
    .sort((a, b) => compareXorDistance(input.target, a, b))
    .slice(0, input.k);
}

/** Exact means the same IDs in the same order: the lookup found precisely the true k closest. */
export function isExact(found: readonly Uint8Array[], expected: readonly Uint8Array[]): boolean {
  return found.length === expected.length && found.every((id, i) => sameBytes(id, expected[i]));
}
