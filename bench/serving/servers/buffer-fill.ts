import { randomBytes } from 'node:crypto';
import type { KademliaDHT } from '../../../libs/kademlia/src';
// Internal: the public API fills the buffer only with contacts that answered a ping over the network. A serving
// benchmark needs a million of them in seconds, so it restores them from a snapshot, as a restarted node would.
import { BootstrapRole } from '../../../libs/kademlia/src/bootstrap/bootstrap-role';
import { encodeBufferSnapshot } from '../../../libs/kademlia/src/bootstrap/buffer-snapshot';
import { nodeIdFromPublicKey } from '../../../libs/kademlia/src/id/key-id';

const KEY_BYTES = 32;
const ID_BYTES = 20;
/** Sort keys pack an ID's first 32 bits above the entry's index: 2^32 x 2^20 stays below 2^53 (exact doubles). */
const INDEX_BITS = 20;
const INDEX_SPAN = 2 ** INDEX_BITS;
/** Fake peers sit on loopback (127.240.0.0/12, no listener), so nothing that pings one leaves the machine. */
const FIRST_SECOND_OCTET = 240;
const PORT = 6881;
/** 250 hosts per /24, 256 /24s per second octet, 16 second octets (240-255). */
const MAX_CONTACTS = 250 * 256 * 16;

export interface BufferFill {
  loaded: number;
  skipped: number;
  /** Wall time of building the snapshot and restoring it. */
  fillMs: number;
}

/** The bootstrap role inside a started node (a node started without `bootstrapRole` has none). */
export function bootstrapRoleOf(node: KademliaDHT): BootstrapRole {
  const running = (node as unknown as { running?: { runtime?: { bootstrapRole?: unknown } } }).running;
  const role = running?.runtime?.bootstrapRole;
  if (!(role instanceof BootstrapRole)) {
    throw new Error('this node has no bootstrap role (not started, no bootstrapRole option, or a new shape)');
  }
  return role;
}

/**
 * Fills the role's buffer with `count` verified contacts: real IDs (SHA-1 of random keys), distinct loopback
 * addresses, verified just now. Re-verification starts 15 minutes after a contact's last success
 * (DEFAULTS.bootstrapBuffer.reverifyAfterMs), so none of them is pinged during a benchmark window. Replaces
 * whatever the buffer held (restore() does).
 */
export function fillBootstrapBuffer(role: BootstrapRole, count: number): BufferFill {
  if (!Number.isInteger(count) || count < 1 || count > MAX_CONTACTS) {
    throw new RangeError(`buffer fill of ${count} contacts: must be 1..${MAX_CONTACTS}`);
  }
  const startedAt = performance.now();
  const keys = new Uint8Array(randomBytes(count * KEY_BYTES));
  const ids = new Uint8Array(count * ID_BYTES);
  for (let i = 0; i < count; i++) {
    ids.set(nodeIdFromPublicKey(keys.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES)), i * ID_BYTES);
  }
  const order = ascendingIdOrder(ids, count);
  const bytes = encodeBufferSnapshot({
    records: (function* () {
      for (let rank = 0; rank < count; rank++) {
        const i = order[rank];
        yield {
          publicKey: keys.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES),
          ip: fakeAddress(rank),
          port: PORT,
          failures: 0,
          ageSeconds: 0,
        };
      }
    })(),
    maxEntries: count,
    savedAtMs: Date.now(),
  });
  const { loaded, skipped } = role.restore(bytes);
  if (loaded !== count)
    throw new Error(`the buffer took ${loaded} of ${count} contacts (${skipped} skipped)`);
  return { loaded, skipped, fillMs: Math.round(performance.now() - startedAt) };
}

/**
 * Entry indexes in ascending ID order, which a snapshot must keep (restore() skips an entry out of order).
 * A numeric sort on (first 32 bits, index), then the few runs sharing their first 32 bits fixed by full ID.
 */
function ascendingIdOrder(ids: Uint8Array, count: number): Uint32Array {
  const view = new DataView(ids.buffer, ids.byteOffset, ids.byteLength);
  const sortKeys = new Float64Array(count);
  for (let i = 0; i < count; i++) sortKeys[i] = view.getUint32(i * ID_BYTES) * INDEX_SPAN + i;
  sortKeys.sort();
  const order = new Uint32Array(count);
  for (let rank = 0; rank < count; rank++) order[rank] = sortKeys[rank] % INDEX_SPAN;
  const prefix = (i: number) => view.getUint32(i * ID_BYTES);
  const id = (i: number) => ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES);
  const misplaced = (at: number) =>
    prefix(order[at - 1]) === prefix(order[at]) && Buffer.compare(id(order[at - 1]), id(order[at])) > 0;
  for (let rank = 1; rank < count; rank++) {
    // Insertion sort: only entries whose 32-bit prefixes tie can be out of order, and ties are rare.
    for (let at = rank; at > 0 && misplaced(at); at--) {
      const swap = order[at - 1];
      order[at - 1] = order[at];
      order[at] = swap;
    }
  }
  return order;
}

/** 127.240.0.1 onwards, 250 hosts per /24 (no .0 or .255): MAX_CONTACTS distinct addresses up to 127.255.255.250. */
function fakeAddress(rank: number): Uint8Array {
  const host = rank % 250;
  const block = Math.floor(rank / 250);
  return Uint8Array.of(127, FIRST_SECOND_OCTET + Math.floor(block / 256), block % 256, host + 1);
}
