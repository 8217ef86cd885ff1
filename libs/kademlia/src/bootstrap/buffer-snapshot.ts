import { crc32 } from 'node:zlib';
import { KademliaError } from '../errors';
import { nodeIdFromPublicKey } from '../id/key-id';
import type { NodeId } from '../id/node-id';
import type { BufferRecord } from './contact-buffer';
import { MAX_FAILURE_COUNT, PUBLIC_KEY_BYTES } from './record-slab';

/**
 * Binary snapshot of the contact buffer, so a restarted bootstrap node hands out contacts at once:
 *
 *   header (24 bytes): "KFBB", version u8 = 1, 3 zero bytes, savedAt (wall-clock ms, f64 BE),
 *                      entry count u32 BE, CRC-32 of the body u32 BE
 *   body, per entry:   flags u8 (bit 0 = IPv6, bits 1-3 = failures), public key (32), address (4 or 16),
 *                      port u16 BE (1-65535), age in seconds u32 BE
 *
 * IDs are not stored: they are re-derived from the keys, so a file cannot pair a key with a chosen ID. Entries
 * come in ascending ID order (as the buffer keeps them) and load with one append each, no sort.
 */
const MAGIC = [0x4b, 0x46, 0x42, 0x42]; // "KFBB"
const VERSION = 1;
const HEADER_BYTES = 24;
const MAX_ENTRY_BYTES = 1 + PUBLIC_KEY_BYTES + 16 + 2 + 4;

export interface SnapshotEntry extends BufferRecord {
  readonly id: NodeId;
}

export function encodeBufferSnapshot(input: {
  records: Iterable<BufferRecord>;
  maxEntries: number;
  savedAtMs: number;
}): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + input.maxEntries * MAX_ENTRY_BYTES);
  const view = new DataView(out.buffer);
  let at = HEADER_BYTES;
  let count = 0;
  for (const record of input.records) {
    if (count >= input.maxEntries) break;
    const v6 = record.ip.length === 16;
    out[at++] = (v6 ? 1 : 0) | (Math.min(record.failures, MAX_FAILURE_COUNT) << 1);
    out.set(record.publicKey, at);
    at += PUBLIC_KEY_BYTES;
    out.set(record.ip, at);
    at += record.ip.length;
    view.setUint16(at, record.port);
    view.setUint32(at + 2, Math.min(0xffff_ffff, Math.max(0, Math.floor(record.ageSeconds))));
    at += 6;
    count++;
  }
  out.set(MAGIC, 0);
  out[4] = VERSION;
  view.setFloat64(8, input.savedAtMs);
  view.setUint32(16, count);
  view.setUint32(20, crc32(out.subarray(HEADER_BYTES, at)));
  return out.slice(0, at);
}

/**
 * Checks a snapshot completely (header, checksum, every field) without allocating per entry; returns its save
 * time and entry count. Anything malformed is a KademliaError 'SNAPSHOT_INVALID', never another exception.
 */
export function checkBufferSnapshot(bytes: Uint8Array): { savedAtMs: number; count: number } {
  if (!(bytes instanceof Uint8Array) || bytes.length < HEADER_BYTES) throw invalid('shorter than its header');
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw invalid('not a buffer snapshot');
  if (bytes[4] !== VERSION) throw invalid(`unsupported version ${bytes[4]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const savedAtMs = view.getFloat64(8);
  if (!Number.isFinite(savedAtMs) || savedAtMs < 0) throw invalid('bad save time');
  const count = view.getUint32(16);
  if (crc32(bytes.subarray(HEADER_BYTES)) !== view.getUint32(20)) throw invalid('checksum mismatch');
  let at = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at >= bytes.length) throw invalid(`truncated at entry ${i}`);
    const flags = bytes[at];
    if (flags > 0x0f) throw invalid(`entry ${i} has unknown flags`);
    const ipBytes = flags & 1 ? 16 : 4;
    const size = 1 + PUBLIC_KEY_BYTES + ipBytes + 6;
    if (at + size > bytes.length) throw invalid(`truncated at entry ${i}`);
    if (view.getUint16(at + size - 6) === 0) throw invalid(`entry ${i} has port 0`);
    at += size;
  }
  if (at !== bytes.length) throw invalid('trailing bytes');
  return { savedAtMs, count };
}

/** The entries of a snapshot checkBufferSnapshot() accepted, each with its re-derived ID. */
export function* readBufferSnapshot(bytes: Uint8Array): Generator<SnapshotEntry> {
  const { count } = checkBufferSnapshot(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const flags = bytes[at++];
    const publicKey = bytes.slice(at, at + PUBLIC_KEY_BYTES);
    at += PUBLIC_KEY_BYTES;
    const ipBytes = flags & 1 ? 16 : 4;
    const ip = bytes.slice(at, at + ipBytes);
    at += ipBytes;
    const port = view.getUint16(at);
    const ageSeconds = view.getUint32(at + 2);
    at += 6;
    yield { id: nodeIdFromPublicKey(publicKey), publicKey, ip, port, failures: (flags >> 1) & 7, ageSeconds };
  }
}

function invalid(reason: string): KademliaError {
  return new KademliaError(`bootstrap buffer snapshot: ${reason}`, 'SNAPSHOT_INVALID');
}
